package org.dspex.beam.transforms.batching;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.connector.worker.WorkerPool;
import org.junit.Test;

/**
 * The executor is the one owner of retries: against real worker processes behind a pool (which
 * sends every request once), a request lost with its worker is sent again by the executor.
 */
public class BatchExecutorOnPoolTest {
  static final String TEST_HANDLERS = "dspex_worker.testing.handlers";

  static String python() {
    return System.getProperty("dspex.python", new File("../.venv/bin/python").getAbsolutePath());
  }

  static WorkerConfig config() {
    return WorkerConfig.create()
        .withPython(python())
        .withHandlerModules(TEST_HANDLERS)
        .withThreadsPerWorker(1)
        .withStartTimeout(Duration.ofSeconds(30))
        .withKillGrace(Duration.ofSeconds(1))
        .withRestartBackoff(Duration.ofMillis(50), Duration.ofMillis(400));
  }

  /** Sends each element as a {@code sleep} of that many seconds; reports what the worker slept. */
  static BatchExecutor.Sender sleeps(WorkerPool pool) {
    return (payloads, sink, exclusivity) -> {
      for (int i = 0; i < payloads.size(); i++) {
        Message m;
        try {
          m = pool.submit(Request.of("sleep").withArg("seconds", payloads.get(i)), sink::worker, exclusivity).get();
        } catch (ExecutionException e) {
          throw (WorkerException) e.getCause();
        }
        sink.ok(i, List.of(m.resultMap().get("slept")));
      }
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
      new BatchExecutor(sleeps(pool), 3, BatchExecutor.CostControl.NONE, listener).run(items);
      BatchItem item = items.get(0);
      assertTrue(item.errorMessage(), item.ok());
      assertEquals(1.0, ((Number) item.outputs().get(0)).doubleValue(), 0.0);
      assertEquals(2, item.sent());
      assertEquals(1, listener.retries.get());
      assertNotEquals(pid, (long) pool.pids().get(0));
      // The pool sent each request once: the crash, the lost sleep, the sleep sent again.
      assertEquals(3, pool.stats().requests());
      assertEquals(1, pool.stats().failures());
      assertEquals(1, pool.stats().workerRestarts());
    }
  }
}
