package org.dspex.beam.transforms.batching;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.protocol.RemoteError;
import org.dspex.beam.connector.worker.CrashLoopException;
import org.dspex.beam.connector.worker.Exclusivity;
import org.dspex.beam.connector.worker.RemoteHandlerException;
import org.dspex.beam.connector.worker.WorkerCrashedException;
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
    public void send(List<Object> payloads, BatchSink sink, Exclusivity exclusivity)
        throws WorkerCrashedException, RemoteHandlerException {
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
    new BatchExecutor(w, 3, BatchExecutor.CostControl.NONE, QUIET).run(batch);
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
    new BatchExecutor(w, 3, BatchExecutor.CostControl.NONE, QUIET).run(batch);
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
    new BatchExecutor(w, 3, BatchExecutor.CostControl.NONE, QUIET).run(batch);
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
    new BatchExecutor(w, 3, BatchExecutor.CostControl.NONE, QUIET).run(batch);
    assertEquals(Failures.HANDLER_ERROR, batch.get(2).errorType());
    assertTrue(batch.get(0).ok() && batch.get(1).ok() && batch.get(3).ok());
  }

  @Test
  public void givenNoWorkerCanServe_thenTheErrorIsThrown() {
    BatchExecutor e = new BatchExecutor((p, s, x) -> {
      throw new CrashLoopException("workers died 5 times", null);
    }, 3, BatchExecutor.CostControl.NONE, QUIET);
    List<BatchItem> batch = items("a");
    assertThrows(CrashLoopException.class, () -> e.run(batch));
    assertFalse(batch.get(0).done());
  }

  @Test
  public void givenTokenBudgetSpent_thenLaterBatchesFailAsBudgetExhausted() throws Exception {
    ScriptedWorker w = new ScriptedWorker();
    BatchExecutor.CostControl budget = SharedCostControl.forKey("test-budget-" + System.nanoTime(), 30, 0);
    BatchExecutor e = new BatchExecutor(w, 3, budget, QUIET);
    List<BatchItem> first = items("a", "b");
    e.run(first);
    List<BatchItem> second = items("c", "d");
    e.run(second);
    assertTrue(first.get(0).ok() && first.get(1).ok());
    assertEquals(Failures.BUDGET_EXHAUSTED, second.get(0).errorType());
    assertEquals(0, second.get(0).sent());
  }

  @Test
  public void givenRateLimit_thenElementsAreAdmittedAtThatRate() throws Exception {
    BatchExecutor.CostControl rate = SharedCostControl.forKey("test-rate-" + System.nanoTime(), 0, 100);
    long t0 = System.nanoTime();
    for (int i = 0; i < 6; i++) {
      rate.acquire(10);
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    // 60 elements at 100/s: the first 10 pass at once, the other 50 take about 0.5 s.
    assertTrue("took " + millis + " ms", millis >= 400 && millis < 2000);
  }
}
