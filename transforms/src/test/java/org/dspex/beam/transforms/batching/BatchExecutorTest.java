package org.dspex.beam.transforms.batching;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.protocol.RemoteError;
import org.dspex.beam.connector.worker.CrashLoopException;
import org.dspex.beam.connector.worker.Exclusivity;
import org.dspex.beam.connector.worker.RemoteHandlerException;
import org.dspex.beam.connector.worker.WorkerCrashedException;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.transforms.failures.Failures;
import org.junit.Test;

/** The retry and bisection rules, against a scripted worker. */
public class BatchExecutorTest {
  /** Answers element by element; dies on "kill" always, on "once" the first time. */
  private static final class ScriptedWorker implements BatchExecutor.Sender {
    final Map<String, Integer> computed = new HashMap<>();
    final List<Integer> requestSizes = new ArrayList<>();
    boolean killedOnce;
    boolean handlerBreaksOn;

    @Override
    public CompletableFuture<Void> send(List<Object> payloads, BatchSink sink, Exclusivity exclusivity) {
      try {
        answer(payloads, sink);
        return CompletableFuture.completedFuture(null);
      } catch (WorkerException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    void answer(List<Object> payloads, BatchSink sink) throws WorkerCrashedException, RemoteHandlerException {
      requestSizes.add(payloads.size());
      // As PredictClient does when the pool names the worker a stream went to.
      sink.worker("worker 1 (pid 42)");
      for (int i = 0; i < payloads.size(); i++) {
        String p = (String) payloads.get(i);
        if (p.equals("kill") || (p.equals("once") && !killedOnce)) {
          killedOnce = true;
          throw new WorkerCrashedException("worker 1 (pid 42)", "worker 1 (pid 42) exited with exit code 9", null);
        }
        if (p.equals("break") && handlerBreaksOn) {
          throw new RemoteHandlerException("worker 1 (pid 42)", 7, "predict",
              RemoteError.fromWire(Map.of("type", "RuntimeError", "message", "boom")));
        }
        computed.merge(p, 1, Integer::sum);
        if (p.equals("bad")) {
          sink.failed(i, "ValueError", "unparseable");
        } else {
          sink.ok(i, List.of(p.toUpperCase()));
        }
        sink.usage(10, 5, 1);
      }
    }
  }

  private static final BatchExecutor.Listener QUIET = new BatchExecutor.Listener() {
    @Override
    public void request(int size, long bytes, long millis, boolean failed) {}

    @Override
    public void retry() {}

    @Override
    public void usage(long p, long c, long n) {}
  };

  private static List<BatchItem> items(String... payloads) {
    List<BatchItem> l = new ArrayList<>();
    for (String p : payloads) {
      l.add(new BatchItem(p, p.length()));
    }
    return l;
  }

  @Test
  public void givenWorkerDiesMidBatch_thenOnlyUnfinishedElementsAreSentAgain() throws Exception {
    ScriptedWorker w = new ScriptedWorker();
    List<BatchItem> batch = items("a", "b", "c", "once", "d");
    new BatchExecutor(w, 3, BatchExecutor.CostControl.NONE, QUIET).run(batch).get();
    for (BatchItem it : batch) {
      assertTrue(it.ok());
    }
    assertEquals(List.of(5, 2), w.requestSizes);
    w.computed.values().forEach(n -> assertEquals(1, (int) n));
    assertEquals(1, batch.get(0).sent());
    assertEquals(2, batch.get(3).sent());
  }

  @Test
  public void givenPoisonElement_thenItFailsAloneAndTheOthersSucceed() throws Exception {
    ScriptedWorker w = new ScriptedWorker();
    List<BatchItem> batch = items("a", "b", "c", "d", "e", "kill", "f", "g");
    new BatchExecutor(w, 3, BatchExecutor.CostControl.NONE, QUIET).run(batch).get();
    for (BatchItem it : batch) {
      assertEquals(it.payload() + " ok", !it.payload().equals("kill"), it.ok());
    }
    BatchItem poison = batch.get(5);
    assertEquals(Failures.WORKER_CRASHED, poison.errorType());
    assertEquals("worker 1 (pid 42)", poison.worker());
    assertTrue(poison.sent() >= 3);
    w.computed.values().forEach(n -> assertEquals(1, (int) n));
  }

  @Test
  public void givenElementFailureOnWorker_thenThatElementFailsWithoutRetry() throws Exception {
    ScriptedWorker w = new ScriptedWorker();
    List<BatchItem> batch = items("a", "bad");
    new BatchExecutor(w, 3, BatchExecutor.CostControl.NONE, QUIET).run(batch).get();
    assertTrue(batch.get(0).ok());
    assertEquals("ValueError", batch.get(1).errorType());
    assertEquals("the failure names the worker that reported it", "worker 1 (pid 42)", batch.get(1).worker());
    assertEquals(1, batch.get(1).sent());
    assertEquals(List.of(2), w.requestSizes);
  }

  @Test
  public void givenHandlerBreaksOnOneElement_thenBisectedToThatElement() throws Exception {
    ScriptedWorker w = new ScriptedWorker();
    w.handlerBreaksOn = true;
    List<BatchItem> batch = items("a", "b", "break", "c");
    new BatchExecutor(w, 3, BatchExecutor.CostControl.NONE, QUIET).run(batch).get();
    assertEquals(Failures.HANDLER_ERROR, batch.get(2).errorType());
    assertTrue(batch.get(0).ok() && batch.get(1).ok() && batch.get(3).ok());
  }

  @Test
  public void givenNoWorkerCanServe_thenTheErrorIsThrown() {
    BatchExecutor e = new BatchExecutor((p, s, x) -> CompletableFuture.failedFuture(
        new CrashLoopException("workers died 5 times", null)), 3, BatchExecutor.CostControl.NONE, QUIET);
    List<BatchItem> batch = items("a");
    ExecutionException x = assertThrows(ExecutionException.class, () -> e.run(batch).get());
    assertTrue(x.getCause() instanceof CrashLoopException);
    assertFalse(batch.get(0).done());
  }

  @Test
  public void givenTokenBudgetSpent_thenLaterBatchesFailAsBudgetExhausted() throws Exception {
    ScriptedWorker w = new ScriptedWorker();
    BatchExecutor.CostControl budget = SharedCostControl.forKey("test-budget-" + System.nanoTime(), 30, 0);
    BatchExecutor e = new BatchExecutor(w, 3, budget, QUIET);
    List<BatchItem> first = items("a", "b");
    e.run(first).get();
    List<BatchItem> second = items("c", "d");
    e.run(second).get();
    assertTrue(first.get(0).ok() && first.get(1).ok());
    assertEquals(Failures.BUDGET_EXHAUSTED, second.get(0).errorType());
    assertEquals(0, second.get(0).sent());
  }

  @Test
  public void givenRateLimit_thenElementsAreAdmittedAtThatRate() throws Exception {
    BatchExecutor.CostControl rate = SharedCostControl.forKey("test-rate-" + System.nanoTime(), 0, 100);
    long t0 = System.nanoTime();
    long last = 0;
    for (int i = 0; i < 6; i++) {
      last = rate.reserve(10);
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    // 60 elements at 100/s: the first 10 pass at once, the last 10 about 0.5 s later; nobody waited.
    assertTrue("reserving took " + millis + " ms", millis < 100);
    long lastMillis = last / 1_000_000;
    assertTrue("the last 10 wait " + lastMillis + " ms", lastMillis >= 400 && lastMillis <= 500);
  }

  @Test
  public void givenRateLimit_whenBatchesRunTogether_thenRunReturnsAtOnceAndRequestsFollowTheRate() throws Exception {
    BatchExecutor.CostControl rate = SharedCostControl.forKey("test-async-rate-" + System.nanoTime(), 0, 100);
    List<Long> sentAt = Collections.synchronizedList(new ArrayList<>());
    BatchExecutor e = new BatchExecutor((payloads, sink, x) -> {
      sentAt.add(System.nanoTime());
      for (int i = 0; i < payloads.size(); i++) {
        sink.ok(i, List.of(payloads.get(i)));
      }
      return CompletableFuture.completedFuture(null);
    }, 3, rate, QUIET);
    List<BatchItem> all = new ArrayList<>();
    List<CompletableFuture<Void>> runs = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int b = 0; b < 6; b++) {
      List<BatchItem> batch = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        batch.add(new BatchItem("b" + b + "-" + i, 4));
      }
      all.addAll(batch);
      runs.add(e.run(batch));
    }
    long returnedMillis = (System.nanoTime() - t0) / 1_000_000;
    // Nobody slept for the rate: the six runs returned at once, their requests follow.
    assertTrue("run() took " + returnedMillis + " ms", returnedMillis < 100);
    CompletableFuture.allOf(runs.toArray(new CompletableFuture<?>[0])).get(10, TimeUnit.SECONDS);
    all.forEach(it -> assertTrue(it.ok()));
    List<Long> sorted = new ArrayList<>(sentAt);
    Collections.sort(sorted);
    assertEquals(6, sorted.size());
    // 60 elements at 100/s, 10 per request: the first at once, the last about 0.5 s later.
    long firstMillis = (sorted.get(0) - t0) / 1_000_000;
    long spanMillis = (sorted.get(5) - sorted.get(0)) / 1_000_000;
    assertTrue("first request after " + firstMillis + " ms", firstMillis < 100);
    assertTrue("requests spread over " + spanMillis + " ms", spanMillis >= 400 && spanMillis < 2000);
  }
}
