package org.dspex.beam.transforms.batching;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.transforms.failures.Failures;
import org.dspex.beam.transforms.signature.FieldType;
import org.dspex.beam.transforms.signature.SignatureField;
import org.junit.Test;

/**
 * The executor over real worker processes behind a pool: it is the one owner of retries (the pool
 * sends every request once), its lone suspects go to the pool as exclusive requests, and nothing
 * of it waits on a thread.
 */
public class BatchExecutorOnPoolTest {
  static final String TEST_HANDLERS = "dspex_testing.handlers";

  static String python() {
    return System.getProperty("dspex.python", new File("../.venv/bin/python").getAbsolutePath());
  }

  static WorkerConfig config() {
    return WorkerConfig.create()
        .withPython(python())
        .withPythonPath(new File(System.getProperty("dspex.testdata", "../testdata")).getAbsoluteFile().toPath()
            .resolve("../python/testing").normalize().toString())
        .withHandlerModules(TEST_HANDLERS)
        .withThreadsPerWorker(1)
        .withStartTimeout(Duration.ofSeconds(30))
        .withKillGrace(Duration.ofSeconds(1))
        .withRestartBackoff(Duration.ofMillis(50), Duration.ofMillis(400))
        .withCrashLoop(20, Duration.ofSeconds(60));
  }

  /**
   * One request per batch: {@code crash} (SIGKILL) if it holds "kill", else a {@code sleep} of the
   * first element's seconds (a number) or an {@code echo} of the elements; every element of an
   * answered request succeeds with what it was.
   */
  static BatchExecutor.Sender worker(WorkerPool pool) {
    return (payloads, sink, exclusivity) -> {
      Request r = payloads.contains("kill") ? Request.of("crash").withArg("signal", "SIGKILL")
          : payloads.get(0) instanceof Number ? Request.of("sleep").withArg("seconds", payloads.get(0))
          : Request.of("echo").withArg("items", payloads);
      return pool.submit(r, sink::worker, exclusivity).thenAccept(m -> {
        for (int i = 0; i < payloads.size(); i++) {
          sink.ok(i, List.of(payloads.get(i)));
        }
      });
    };
  }

  /** Counts the executor's retries. */
  static final class Retries implements BatchExecutor.Listener {
    final AtomicInteger retries = new AtomicInteger();

    @Override
    public void request(int size, long bytes, long millis, boolean failed) {}

    @Override
    public void retry() {
      retries.incrementAndGet();
    }

    @Override
    public void usage(long promptTokens, long completionTokens, long calls) {}
  }

  @Test
  public void givenRequestOnAWorkerThatDies_thenTheExecutorSendsItOnceMoreAndItSucceeds() throws Exception {
    try (WorkerPool pool = WorkerPool.create(config())) {
      long pid = pool.pids().get(0);
      // Answers, then dies 0.3 s later: the sleep sent meanwhile is lost with it.
      pool.call(Request.of("crash").withArg("signal", "SIGKILL").withArg("after_seconds", 0.3));
      Retries listener = new Retries();
      List<BatchItem> items = new ArrayList<>(List.of(new BatchItem(1, 1)));
      new BatchExecutor(worker(pool), 3, BatchExecutor.CostControl.NONE, listener).run(items)
          .get(30, TimeUnit.SECONDS);
      BatchItem item = items.get(0);
      assertTrue(item.errorMessage(), item.ok());
      assertEquals(2, item.sent());
      assertEquals(1, listener.retries.get());
      assertNotEquals(pid, (long) pool.pids().get(0));
      // The pool sent each request once: the crash, the lost sleep, the sleep sent again.
      assertEquals(3, pool.stats().requests());
      assertEquals(1, pool.stats().failures());
      assertEquals(1, pool.stats().workerRestarts());
    }
  }

  @Test
  public void givenPoisonElementAmongOthersInFlight_thenOnlyItFailsNamingItsWorker() throws Exception {
    try (WorkerPool pool = WorkerPool.create(config().withWorkers(2))) {
      BatchExecutor executor = new BatchExecutor(worker(pool), 2, BatchExecutor.CostControl.NONE, new Retries());
      List<BatchItem> poisoned = new ArrayList<>();
      for (String p : List.of("a", "b", "c", "kill", "d", "e")) {
        poisoned.add(new BatchItem(p, 1));
      }
      // A second caller's batches keep the pool busy meanwhile: the poison's lone sends must wait
      // for them, and they must not be its collateral.
      List<CompletableFuture<Void>> others = new ArrayList<>();
      List<BatchItem> otherItems = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        List<BatchItem> batch = List.of(new BatchItem(0.2, 1), new BatchItem(0.2, 1));
        otherItems.addAll(batch);
        others.add(executor.run(batch));
      }
      executor.run(poisoned).get(60, TimeUnit.SECONDS);
      CompletableFuture.allOf(others.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
      for (BatchItem it : poisoned) {
        assertEquals(it.payload() + ": " + it.errorMessage(), !"kill".equals(it.payload()), it.ok());
      }
      BatchItem poison = poisoned.get(3);
      assertEquals(Failures.WORKER_CRASHED, poison.errorType());
      assertTrue(poison.errorMessage(), poison.errorMessage().contains("SIGKILL"));
      assertTrue(poison.worker(), poison.worker().matches("worker \\d+ \\(pid \\d+\\)"));
      assertTrue(poison.errorMessage().startsWith(poison.worker() + " "));
      assertTrue(poison.sent() >= 2);
      // The other caller's elements all succeed, whatever the poison's shared sends cost them.
      otherItems.forEach(it -> assertTrue(it.errorMessage(), it.ok()));
      assertEquals(null, pool.failure());
    }
  }

  @Test
  public void givenV1PeerWorker_whenPredictStreams_thenEveryElementFailsAsAHandlerErrorAndTheWorkerServesOn()
      throws Exception {
    String peer = new File("../connector/src/test/resources/v1_peer.py").getAbsolutePath();
    WorkerConfig v1 = config().withCommand(List.of(python(), peer)).withLegacyV1Peers(true);
    try (WorkerPool pool = WorkerPool.create(v1)) {
      PredictClient client = new PredictClient(v1, List.of("q"), List.of(new SignatureField("a", FieldType.STR)),
          "predict");
      BatchExecutor executor = new BatchExecutor(
          (payloads, sink, x) -> client.send(pool, "predict-1", payloads, FormatChoice.AUTO, sink, x),
          3, BatchExecutor.CostControl.NONE, new Retries());
      List<BatchItem> items = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        items.add(new BatchItem(Map.of("q", "question " + i), 20));
      }
      executor.run(items).get(30, TimeUnit.SECONDS);
      long pid = pool.pids().get(0);
      for (BatchItem it : items) {
        assertEquals(Failures.HANDLER_ERROR, it.errorType());
        assertEquals("worker 1 (pid " + pid + ") speaks protocol v1, which has no streams; command 'predict'"
            + " asks for one", it.errorMessage());
        assertEquals("worker 1 (pid " + pid + ")", it.worker());
        assertEquals("refused once for the whole batch, never retried", 1, it.sent());
      }
      assertEquals(0, pool.stats().workerCrashes());
      assertEquals(1, pool.stats().failures());
      assertEquals(Map.of("still", true), pool.call(Request.of("echo").withArg("still", true)).resultMap());
    }
  }
}
