package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.junit.jupiter.api.Test;

/** {@link Exclusivity#EXCLUSIVE}: a request alone on the pool, on real worker processes. */
class WorkerPoolExclusiveTest {
  private static final long T = 20;

  /** Completes with the nano time at which {@code f} completed, however it did. */
  private static CompletableFuture<Long> doneAt(CompletableFuture<?> f) {
    return f.handle((v, e) -> System.nanoTime());
  }

  private static Request sleep(double seconds) {
    return Request.of("sleep").withArg("seconds", seconds);
  }

  @Test
  void givenExclusiveRequest_thenItWaitsForThoseInFlightAndThoseAfterItWaitForIt() throws Exception {
    try (WorkerPool pool = WorkerPool.create(WorkerTestSupport.config().withWorkers(2))) {
      // Two workers: without exclusivity the exclusive sleep would run beside the first two.
      List<CompletableFuture<Long>> before = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        before.add(doneAt(pool.submit(sleep(0.6))));
      }
      CompletableFuture<Message> exclusive = pool.submit(sleep(0.4), name -> {}, Exclusivity.EXCLUSIVE);
      CompletableFuture<Long> exclusiveAt = doneAt(exclusive);
      CompletableFuture<Long> afterAt = doneAt(pool.submit(Request.of("echo").withArg("after", true)));
      CompletableFuture<StreamEvent.End> stream = pool.submitStream(
          Request.of("slow_stream").withArg("n", 2).withArg("delay_s", 0.0), event -> {});
      CompletableFuture<Long> streamAt = doneAt(stream);

      long lastBefore = Math.max(before.get(0).get(T, TimeUnit.SECONDS), before.get(1).get(T, TimeUnit.SECONDS));
      assertEquals(0.4, ((Number) exclusive.get(T, TimeUnit.SECONDS).resultMap().get("slept")).doubleValue());
      long exclusiveDone = exclusiveAt.get(T, TimeUnit.SECONDS);
      // Sent only once both earlier sleeps were answered: it took its 0.4 s after them.
      assertTrue(exclusiveDone - lastBefore >= TimeUnit.MILLISECONDS.toNanos(350),
          "exclusive done " + (exclusiveDone - lastBefore) / 1_000_000 + " ms after the others");
      // Requests submitted after it were held until it completed, streams included.
      assertTrue(afterAt.get(T, TimeUnit.SECONDS) >= exclusiveDone);
      assertTrue(streamAt.get(T, TimeUnit.SECONDS) >= exclusiveDone);
      assertEquals(2, stream.get().ok());
      assertEquals(0, pool.stats().failures());
    }
  }

  @Test
  void givenExclusiveRequestThatKillsItsWorker_thenOnlyItFailsAndTheRequestsAfterItSucceed() throws Exception {
    try (WorkerPool pool = WorkerPool.create(WorkerTestSupport.config())) {
      long pid = pool.pids().get(0);
      CompletableFuture<Message> poison =
          pool.submit(Request.of("crash").withArg("signal", "SIGKILL"), name -> {}, Exclusivity.EXCLUSIVE);
      List<CompletableFuture<Message>> after = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        after.add(pool.submit(Request.of("echo").withArg("i", i)));
      }
      ExecutionException e = assertThrows(ExecutionException.class, () -> poison.get(T, TimeUnit.SECONDS));
      WorkerCrashedException c = assertInstanceOf(WorkerCrashedException.class, e.getCause());
      assertTrue(c.getMessage().contains("SIGKILL") && c.getMessage().contains("'crash'"), c.getMessage());
      for (int i = 0; i < 3; i++) {
        // Not the crash's collateral: held back, then served by the restarted worker.
        assertEquals((long) i, ((Map<?, ?>) after.get(i).get(T, TimeUnit.SECONDS).result()).get("i"));
      }
      assertTrue(pool.pids().get(0) != pid);
      assertEquals(1, pool.stats().failures());
      assertEquals(1, pool.stats().workerRestarts());
    }
  }

  @Test
  void givenExclusiveRequestsFromSeveralCallers_thenEachRunsAlone() throws Exception {
    try (WorkerPool pool = WorkerPool.create(WorkerTestSupport.config().withWorkers(2))) {
      List<CompletableFuture<Message>> all = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        all.add(pool.submit(sleep(0.2), name -> {}, Exclusivity.EXCLUSIVE));
      }
      long t0 = System.nanoTime();
      for (CompletableFuture<Message> f : all) {
        f.get(T, TimeUnit.SECONDS);
      }
      long millis = (System.nanoTime() - t0) / 1_000_000;
      // One after another on two workers: three times 0.2 s, not 0.4 s.
      assertTrue(millis >= 550, "took " + millis + " ms");
    }
  }
}
