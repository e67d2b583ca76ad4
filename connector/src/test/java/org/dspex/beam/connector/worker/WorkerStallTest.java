package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.Request;
import org.junit.jupiter.api.Test;

/**
 * The stall watch on real worker processes: a stopped worker is killed within the stall timeout,
 * far below the request timeout; a live one whose handler takes longer than the stall timeout is
 * left alone.
 */
class WorkerStallTest {
  private static final Duration STALL = Duration.ofSeconds(2);

  private static void waitUntilRunning(WorkerPool pool, int handlers) throws InterruptedException {
    PythonWorkerTest.waitFor(() -> {
      try {
        return ((Number) pool.call(Request.of("ping")).resultMap().get("in_flight")).intValue() == handlers;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
  }

  private static void signal(String name, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
    assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + name + " " + pid);
  }

  @Test
  void givenAWorkerStoppedMidRequest_thenItIsKilledAndTheRequestFailsRetryablyWithinTheStallTimeout()
      throws Exception {
    WorkerConfig config = WorkerTestSupport.config().withStallTimeout(STALL);
    assertEquals(WorkerConfig.DEFAULT_REQUEST_TIMEOUT, config.requestTimeout());
    try (WorkerPool pool = WorkerPool.create(config)) {
      long pid = pool.pids().get(0);
      CompletableFuture<Message> sleeping = pool.submit(Request.of("sleep").withArg("seconds", 60));
      waitUntilRunning(pool, 1);
      long t0 = System.nanoTime();
      signal("STOP", pid);
      ExecutionException x = assertThrows(ExecutionException.class, () -> sleeping.get(60, TimeUnit.SECONDS));
      double seconds = (System.nanoTime() - t0) / 1e9;
      WorkerCrashedException e = assertInstanceOf(WorkerCrashedException.class, x.getCause());
      assertTrue(e.isRetryable());
      assertTrue(e.getMessage().startsWith("worker 1 (pid " + pid + ") was killed because it answered no ping for"
          + " 2.0 s while 1 request was in flight (stopped, deadlocked? WorkerConfig.withStallTimeout); it exited"
          + " with SIGKILL / exit code 137 during request 1 'sleep' after "), e.getMessage());
      // The stall timeout, a ping after at most 200 ms of silence, a watchdog tick of 100 ms.
      assertTrue(seconds < STALL.toSeconds() + 3, "failed after " + seconds + " s");
      PythonWorkerTest.waitFor(() -> ProcessHandle.of(pid).isEmpty());
      assertEquals(2L, ((Map<?, ?>) pool.call(Request.of("echo").withArg("n", 2)).result()).get("n"));
      assertNotEquals(pid, (long) pool.pids().get(0));
      assertEquals(1, pool.stats().workerTimeouts(), "a stall counts as a hung worker");
      assertEquals(1, pool.stats().workerRestarts());
    }
  }

  @Test
  void givenAHandlerSlowerThanTheStallTimeout_thenTheLiveWorkerAnswersPingsAndIsNotKilled() throws Exception {
    WorkerConfig config = WorkerTestSupport.config().withStallTimeout(Duration.ofSeconds(1));
    try (WorkerPool pool = WorkerPool.create(config)) {
      long pid = pool.pids().get(0);
      long pings = pool.stats().healthPings();
      Message m = pool.call(Request.of("sleep").withArg("seconds", 4));
      assertEquals(4L, ((Number) m.resultMap().get("slept")).longValue());
      assertEquals(pid, (long) pool.pids().get(0));
      assertEquals(0, pool.stats().workerCrashes());
      // Pinged every 100 ms of silence (a tenth of the stall timeout) while the handler slept.
      assertTrue(pool.stats().healthPings() - pings >= 10, "pings: " + (pool.stats().healthPings() - pings));
    }
  }

  @Test
  void givenAStoppedWorkerThatIsContinuedInTime_thenItIsNotKilled() throws Exception {
    WorkerConfig config = WorkerTestSupport.config().withStallTimeout(Duration.ofSeconds(3));
    try (WorkerPool pool = WorkerPool.create(config)) {
      long pid = pool.pids().get(0);
      CompletableFuture<Message> sleeping = pool.submit(Request.of("sleep").withArg("seconds", 2));
      waitUntilRunning(pool, 1);
      signal("STOP", pid);
      Thread.sleep(1000);
      signal("CONT", pid);
      assertEquals(2L, ((Number) sleeping.get(30, TimeUnit.SECONDS).resultMap().get("slept")).longValue());
      assertEquals(pid, (long) pool.pids().get(0));
      assertEquals(0, pool.stats().workerCrashes());
    }
  }
}
