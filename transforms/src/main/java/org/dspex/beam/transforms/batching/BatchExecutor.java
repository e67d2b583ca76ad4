package org.dspex.beam.transforms.batching;

import java.util.ArrayList;
import java.util.List;
import org.dspex.beam.connector.worker.Exclusivity;
import org.dspex.beam.connector.worker.RemoteHandlerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.transforms.failures.Failures;

/**
 * Gives every element of a batch an outcome, whatever the workers do:
 *
 * <ul>
 *   <li>results a stream reported are kept, so after a crash only unreported elements are sent
 *       again (no LM call is paid twice for an element that already has its answer);
 *   <li>a batch whose request failed retryably (worker died or hung) is sent again once as it is;
 *       if it fails again it is split in halves, each handled the same way, so a poison element
 *       ends up alone and fails with {@link Failures#WORKER_CRASHED} after {@code maxAttempts}
 *       sends, while the others succeed;
 *   <li>an element that is alone and has been in a crashed request before is sent {@link
 *       Exclusivity#EXCLUSIVE exclusively} (the pool sends it when nothing else of the pool is in
 *       flight, whoever sent that), so a crash then is its own and not the collateral of another
 *       thread's poison element; only such a crash fails it;
 *   <li>a handler error (not retryable: the same batch would break the same way) splits the batch
 *       at once, down to the element that breaks it ({@link Failures#HANDLER_ERROR});
 *   <li>a failure that is no element's fault (no worker can start, crash loop) is thrown, for the
 *       runner to retry the bundle.
 * </ul>
 *
 * <p>Before each request the {@link CostControl} may fail elements ({@link
 * Failures#BUDGET_EXHAUSTED}) or wait (rate limit). {@link #run} keeps its state per call, so
 * a DoFn instance may run batches on several threads at once; the cost control and the listener
 * must then be thread-safe.
 */
public final class BatchExecutor {
  private static final Logger LOG = LoggerFactory.getLogger(BatchExecutor.class);

  /** Sends one request for some elements' payloads. */
  @FunctionalInterface
  public interface Sender {
    /** See {@link ModelClient#send}. */
    void send(List<Object> payloads, BatchSink sink, Exclusivity exclusivity)
        throws WorkerException, InterruptedException;
  }

  /** What is admitted into requests: a token budget and a rate limit, both optional. */
  public interface CostControl {
    /** Whether the budget is spent, so nothing more may be sent. */
    boolean exhausted();

    /** Waits until {@code n} more elements may be sent. */
    void acquire(int n) throws InterruptedException;

    /** Tokens an answer used. */
    void spend(long tokens);

    /** No budget, no rate limit. */
    CostControl NONE =
        new CostControl() {
          @Override
          public boolean exhausted() {
            return false;
          }

          @Override
          public void acquire(int n) {}

          @Override
          public void spend(long tokens) {}
        };
  }

  /** Observes requests, on the thread that runs the executor (Beam metrics need that thread). */
  public interface Listener {
    /** One request of {@code size} elements and {@code bytes} ended after {@code millis}. */
    void request(int size, long bytes, long millis, boolean failed);

    /** A failed request is sent again (in whole or in halves). */
    void retry();

    /** Usage reported by one request. */
    void usage(long promptTokens, long completionTokens, long calls);
  }

  private final Sender sender;
  private final int maxAttempts;
  private final CostControl cost;
  private final Listener listener;

  /** An executor that sends with {@code sender} and fails an element after {@code maxAttempts} sends. */
  public BatchExecutor(Sender sender, int maxAttempts, CostControl cost, Listener listener) {
    this.sender = sender;
    this.maxAttempts = maxAttempts;
    this.cost = cost;
    this.listener = listener;
  }

  /**
   * Runs {@code items} until each has an outcome.
   *
   * @throws WorkerException when no worker can serve (start failure, crash loop)
   */
  public void run(List<BatchItem> items) throws WorkerException, InterruptedException {
    boolean crashedOnce = false;
    while (true) {
      List<BatchItem> pending = notDone(items);
      if (pending.isEmpty()) {
        return;
      }
      if (cost.exhausted()) {
        for (BatchItem it : pending) {
          it.fail(Failures.BUDGET_EXHAUSTED,
              "the token budget (withTokenBudget) was spent before this element was sent", null);
        }
        return;
      }
      cost.acquire(pending.size());
      boolean exclusive = pending.size() == 1 && pending.get(0).crashes() > 0;
      WorkerException error = sendOnce(pending, exclusive);
      if (error == null) {
        return;
      }
      List<BatchItem> left = notDone(pending);
      LOG.info("a request of {} element(s) failed with {} ({} reported before): {}", pending.size(),
          error.getClass().getSimpleName(), pending.size() - left.size(), error.getMessage());
      if (left.isEmpty()) {
        return;
      }
      String worker = error.worker().orElse(null);
      if (error instanceof RemoteHandlerException) {
        if (left.size() == 1) {
          left.get(0).fail(Failures.HANDLER_ERROR, error.getMessage(), worker);
          return;
        }
        listener.retry();
        splitAndRun(left);
        return;
      }
      if (!error.isRetryable()) {
        throw error;
      }
      for (BatchItem it : left) {
        it.markCrashed();
      }
      if (left.size() == 1) {
        BatchItem poison = left.get(0);
        if (exclusive && poison.sent() >= maxAttempts) {
          poison.fail(Failures.WORKER_CRASHED, error.getMessage(), worker);
          return;
        }
        listener.retry();
        continue;
      }
      listener.retry();
      if (crashedOnce) {
        splitAndRun(left);
        return;
      }
      crashedOnce = true;
    }
  }

  private void splitAndRun(List<BatchItem> left) throws WorkerException, InterruptedException {
    int half = left.size() / 2;
    run(new ArrayList<>(left.subList(0, half)));
    run(new ArrayList<>(left.subList(half, left.size())));
  }

  /** One request; null when it completed, else why it failed. */
  private WorkerException sendOnce(List<BatchItem> pending, boolean exclusive) throws InterruptedException {
    List<Object> payloads = new ArrayList<>(pending.size());
    long bytes = 0;
    for (BatchItem it : pending) {
      it.markSent();
      payloads.add(it.payload());
      bytes += it.bytes();
    }
    Collector sink = new Collector(pending);
    long t0 = System.nanoTime();
    WorkerException error = null;
    try {
      sender.send(payloads, sink, exclusive ? Exclusivity.EXCLUSIVE : Exclusivity.SHARED);
    } catch (WorkerException e) {
      error = e;
    }
    listener.request(pending.size(), bytes, (System.nanoTime() - t0) / 1_000_000, error != null);
    long[] u = sink.usage();
    if (u[0] + u[1] + u[2] > 0) {
      listener.usage(u[0], u[1], u[2]);
      cost.spend(u[0] + u[1]);
    }
    if (error == null) {
      for (BatchItem it : pending) {
        // A stream that ended without reporting an element broke the protocol's promise.
        it.fail("MissingResult", "the worker ended the request without a result for this element", sink.worker);
      }
    }
    return error;
  }

  private static List<BatchItem> notDone(List<BatchItem> items) {
    List<BatchItem> l = new ArrayList<>();
    for (BatchItem it : items) {
      if (!it.done()) {
        l.add(it);
      }
    }
    return l;
  }

  /** Reports into the request's items; called on callback threads. */
  private static final class Collector implements BatchSink {
    private final List<BatchItem> items;
    // Set before the answers arrive (on another thread), read with each failure.
    private volatile String worker;
    private long prompt;
    private long completion;
    private long calls;

    Collector(List<BatchItem> items) {
      this.items = items;
    }

    private BatchItem at(int index) {
      if (index < 0 || index >= items.size()) {
        throw new IllegalStateException("the worker reported index " + index + " of a request of " + items.size());
      }
      return items.get(index);
    }

    @Override
    public void ok(int index, List<Object> values) {
      at(index).succeed(values);
    }

    @Override
    public void failed(int index, String type, String message) {
      at(index).fail(type, message, worker);
    }

    @Override
    public void worker(String name) {
      worker = name;
    }

    @Override
    public synchronized void usage(long promptTokens, long completionTokens, long n) {
      prompt += promptTokens;
      completion += completionTokens;
      calls += n;
    }

    synchronized long[] usage() {
      return new long[] {prompt, completion, calls};
    }
  }
}
