package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.ProtocolException;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.junit.jupiter.api.Test;

/** Fault injection on real worker processes behind a pool. */
class WorkerPoolFaultTest {
  private static final long T = 20;

  private static Throwable failure(CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(T, TimeUnit.SECONDS));
    return e.getCause();
  }

  @Test
  void givenWorkerKilledMidRequest_thenPendingFailAndPoolRestarts() throws Exception {
    try (WorkerPool pool = WorkerPool.create(WorkerTestSupport.config())) {
      long pid = pool.pids().get(0);
      List<CompletableFuture<Message>> pending = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        pending.add(pool.submit(Request.of("sleep").withArg("seconds", 30)));
      }
      // ping is answered while handlers run: wait until the worker runs all three.
      AtomicLong pings = new AtomicLong();
      PythonWorkerTest.waitFor(() -> {
        pings.incrementAndGet();
        try {
          return ((Number) pool.call(Request.of("ping")).resultMap().get("in_flight")).intValue() == 3;
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      assertTrue(ProcessHandle.of(pid).orElseThrow().destroyForcibly());
      for (CompletableFuture<Message> f : pending) {
        WorkerCrashedException e = assertInstanceOf(WorkerCrashedException.class, failure(f));
        assertTrue(e.isRetryable());
        assertEquals(java.util.Optional.of("worker 1 (pid " + pid + ")"), e.worker());
        assertTrue(e.getMessage().matches("(?s)worker 1 \\(pid " + pid + "\\) exited with SIGKILL / exit code 137"
            + " during request [123] 'sleep' after \\d+ ms; last stderr lines:.*"), e.getMessage());
      }
      // The retry goes to the restarted worker.
      Message m = pool.call(Request.of("echo").withArg("retry", true));
      assertEquals(true, m.resultMap().get("retry"));
      long newPid = pool.pids().get(0);
      assertNotEquals(pid, newPid);
      WorkerStats s = pool.stats();
      assertEquals(4 + pings.get(), s.requests());
      assertEquals(3, s.failures());
      assertEquals(1, s.workerCrashes());
      assertEquals(1, s.workerRestarts());
      assertEquals(2, s.workerStarts());
      assertEquals(1 + pings.get(), s.requestLatency().count());
    }
  }

  @Test
  void givenHandlerSleepsPastRequestTimeout_thenKilledRestartedWithClearTimeoutError() throws Exception {
    WorkerConfig config = WorkerTestSupport.config().withRequestTimeout(Duration.ofSeconds(1));
    try (WorkerPool pool = WorkerPool.create(config)) {
      long pid = pool.pids().get(0);
      WorkerTimeoutException e = assertInstanceOf(WorkerTimeoutException.class,
          failure(pool.submit(Request.of("sleep").withArg("seconds", 30))));
      assertTrue(e.getMessage().startsWith("worker 1 (pid " + pid + ") was killed because request 1 'sleep'"
          + " exceeded its timeout of 1.0 s; it exited with SIGTERM / exit code 143 during request 1 'sleep' after"),
          e.getMessage());
      assertTrue(e.isRetryable());
      assertEquals(java.util.Optional.of("worker 1 (pid " + pid + ")"), e.worker());
      assertEquals(2L, ((Map<?, ?>) pool.call(Request.of("echo").withArg("n", 2)).result()).get("n"));
      assertNotEquals(pid, (long) pool.pids().get(0));
      assertEquals(1, pool.stats().workerTimeouts());
      assertEquals(1, pool.stats().workerRestarts());
      assertEquals(1, pool.stats().failures());
    }
  }

  @Test
  void givenSixteenThreadsSharingOnePool_thenEveryReplyReachesItsCaller() throws Exception {
    WorkerConfig config = WorkerTestSupport.config().withWorkers(2);
    WorkerPool pool = WorkerPools.acquire(config);
    assertTrue(pool == WorkerPools.acquire(config), "one pool per configuration");
    WorkerPools.release(pool);
    ExecutorService threads = Executors.newFixedThreadPool(16);
    AtomicLong ok = new AtomicLong();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        int thread = t;
        done.add(threads.submit(() -> {
          List<CompletableFuture<Message>> window = new ArrayList<>();
          List<String> sent = new ArrayList<>();
          for (int i = 0; i < 625; i++) {
            String payload = "t" + thread + "-r" + i;
            sent.add(payload);
            window.add(pool.submit(Request.of("echo").withArg("payload", payload)));
            if (window.size() == 8 || i == 624) {
              for (int k = 0; k < window.size(); k++) {
                assertEquals(sent.get(k), window.get(k).get(T, TimeUnit.SECONDS).resultMap().get("payload"));
                ok.incrementAndGet();
              }
              window.clear();
              sent.clear();
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
    }
    assertEquals(10_000, ok.get());
    assertEquals(10_000, pool.stats().requests());
    assertEquals(0, pool.stats().failures());
    assertEquals(10_000, pool.stats().requestLatency().count());
    assertEquals(2, pool.pids().size());
    WorkerPools.release(pool);
    assertEquals(0, WorkerPools.size());
  }

  @Test
  void givenRecycleAfterRequests_thenWorkersAreReplacedWithoutFailures() throws Exception {
    try (WorkerPool pool = WorkerPool.create(WorkerTestSupport.config().withRecycleAfterRequests(5))) {
      List<Long> pids = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        pids.add(((Number) pool.call(Request.of("pid")).resultMap().get("pid")).longValue());
      }
      assertEquals(3, pids.stream().distinct().count(), pids.toString());
      assertEquals(0, pool.stats().failures());
      assertEquals(2, pool.stats().workerRestarts());
      assertEquals(0, pool.stats().workerCrashes());
    }
  }

  @Test
  void givenIdlePool_thenWorkersStopAndStartAgainOnDemand() throws Exception {
    WorkerConfig config = WorkerTestSupport.config().withIdleShutdown(Duration.ofMillis(300));
    try (WorkerPool pool = WorkerPool.create(config)) {
      long pid = pool.pids().get(0);
      pool.call(Request.of("echo"));
      PythonWorkerTest.waitFor(() -> pool.pids().isEmpty());
      PythonWorkerTest.waitFor(() -> ProcessHandle.of(pid).isEmpty());
      assertEquals(1L, ((Map<?, ?>) pool.call(Request.of("echo").withArg("again", 1)).result()).get("again"));
      assertEquals(0, pool.stats().workerCrashes());
      assertEquals(2, pool.stats().workerStarts());
    }
  }

  @Test
  void givenIdleWorker_thenHealthPingsKeepItAndDetectNothingWrong() throws Exception {
    WorkerConfig config = WorkerTestSupport.config().withPingInterval(Duration.ofMillis(100));
    try (WorkerPool pool = WorkerPool.create(config)) {
      long pid = pool.pids().get(0);
      Thread.sleep(600);
      assertTrue(pool.stats().healthPings() >= 2, "pings: " + pool.stats().healthPings());
      assertEquals(List.of(pid), pool.pids());
      assertEquals(0, pool.stats().requests(), "pings are not requests");
      assertEquals(0, pool.stats().workerCrashes());
    }
  }

  @Test
  void givenSetup_thenEveryWorkerRestartedOrNotServesTheSameHandle() throws Exception {
    WorkerConfig config = WorkerTestSupport.config()
        .withSetup(Map.of("kind", "test_value", "value", 42, "load_s", 0.1));
    try (WorkerPool pool = WorkerPool.create(config)) {
      String handle = (String) pool.setupResults().get(0).get("handle");
      assertEquals(42L, pool.call(Request.of("get_value").withArg("handle", handle)).resultMap().get("value"));
      long pid = pool.pids().get(0);
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      PythonWorkerTest.waitFor(() -> !pool.pids().isEmpty() && pool.pids().get(0) != pid);
      assertEquals(handle, pool.setupResults().get(0).get("handle"));
      assertEquals(42L, pool.call(Request.of("get_value").withArg("handle", handle)).resultMap().get("value"));
    }
  }

  @Test
  void givenSetupSlowerThanSetupTimeout_thenStartFailsWithTimedOut() {
    WorkerConfig config = WorkerTestSupport.config()
        .withSetup(Map.of("kind", "test_value", "value", 1, "load_s", 30))
        .withSetupTimeout(Duration.ofMillis(500));
    WorkerStartException e = assertThrows(WorkerStartException.class, () -> PythonWorker.start(config, 1, new WorkerStats()));
    assertEquals(WorkerStartException.Reason.TIMED_OUT, e.reason());
    assertTrue(e.getMessage().contains("setup test_value failed: worker 1 (pid "), e.getMessage());
    assertTrue(e.getMessage().contains("exceeded its timeout of 500 ms"), e.getMessage());
  }

  @Test
  void givenWorkerKilledMidStream_thenReportedChunksAreKeptAndOnlyTheRestIsLost() throws Exception {
    try (WorkerPool pool = WorkerPool.create(WorkerTestSupport.config())) {
      long pid = pool.pids().get(0);
      List<Long> indexes = java.util.Collections.synchronizedList(new ArrayList<>());
      CompletableFuture<StreamEvent.End> stream = pool.submitStream(
          Request.of("slow_stream").withArg("n", 50).withArg("delay_s", 0.05),
          event -> {
            if (event instanceof StreamEvent.Chunk) {
              indexes.addAll(((StreamEvent.Chunk) event).indexes());
            }
          });
      PythonWorkerTest.waitFor(() -> indexes.size() >= 3);
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      WorkerCrashedException e = assertInstanceOf(WorkerCrashedException.class, failure(stream));
      assertTrue(e.getMessage().contains("SIGKILL / exit code 137 during request 1 'slow_stream'"), e.getMessage());
      List<Long> kept = new ArrayList<>(indexes);
      assertTrue(kept.size() >= 3 && kept.size() < 50, kept.toString());
      for (int i = 0; i < kept.size(); i++) {
        assertEquals((long) i, kept.get(i), "in order, each once: " + kept);
      }
      assertEquals(1, pool.stats().failures());
    }
  }

  /**
   * A value too deep to encode (its iteration overflows the stack, as a deeply nested value would)
   * fails its request as an encoding error naming the worker, before a byte is written, and the
   * same worker serves on; the writer thread used to die of the error silently, leaving this request
   * and every later one on that worker unanswered.
   */
  @Test
  void givenValueTooDeepToEncode_thenThatRequestFailsAndTheWorkerServesOn() throws Exception {
    Map<String, Object> poisoned = new AbstractMap<>() {
      @Override
      public Set<Map.Entry<String, Object>> entrySet() {
        throw new StackOverflowError("a value nested too deep");
      }
    };
    try (WorkerPool pool = WorkerPool.create(WorkerTestSupport.config())) {
      long pid = pool.pids().get(0);
      Throwable e = failure(pool.submit(Request.of("echo").withBody("value", List.of(poisoned))));
      assertInstanceOf(ProtocolException.class, e);
      assertTrue(e.getMessage().contains("could not be encoded") && e.getMessage().contains("StackOverflowError"),
          e.getMessage());
      assertTrue(e.getMessage().contains("worker 1 (pid " + pid + ")"), e.getMessage());
      assertEquals(2L, ((Map<?, ?>) pool.call(Request.of("echo").withArg("n", 2)).result()).get("n"));
      assertEquals(List.of(pid), pool.pids());
      assertEquals(0, pool.stats().workerCrashes());
    }
  }
}
