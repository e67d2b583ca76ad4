package org.dspex.beam.transforms.batching;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.worker.Exclusivity;
import org.dspex.beam.connector.worker.RemoteHandlerException;
import org.dspex.beam.connector.worker.UnsupportedRequestException;
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
 *   <li>a request the worker cannot take at all ({@link UnsupportedRequestException}: a V1 peer
 *       asked for a stream) fails its elements at once, {@link Failures#HANDLER_ERROR} too;
 *   <li>a failure that is no element's fault (no worker can start, crash loop) is thrown, for the
 *       runner to retry the bundle.
 * </ul>
 *
 * <p>Before each request the {@link CostControl} may fail elements ({@link
 * Failures#BUDGET_EXHAUSTED}) or delay it (rate limit; no thread sleeps). {@link #run} keeps its
 * state per call and returns at once with a future, so one DoFn instance keeps several batches in
 * flight; the cost control and the listener must be thread-safe.
 */
public final class BatchExecutor {
  private static final Logger LOG = LoggerFactory.getLogger(BatchExecutor.class);

  /** Sends one request for some elements' payloads. */
  @FunctionalInterface
  public interface Sender {
    /** See {@link ModelClient#send}: completes when every element was reported, or fails. */
    CompletableFuture<?> send(List<Object> payloads, BatchSink sink, Exclusivity exclusivity);
  }

  /** What is admitted into requests: a token budget and a rate limit, both optional. */
  public interface CostControl {
    /** Whether the budget is spent, so nothing more may be sent. */
    boolean exhausted();

    /**
     * Admits {@code n} more elements: the nanoseconds until they may be sent (0: now). Never waits
     * itself, so that no thread sleeps for the rate limit; the caller delays the send.
     */
    long reserve(int n);

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
          public long reserve(int n) {
            return 0;
          }

          @Override
          public void spend(long tokens) {}
        };
  }

  /**
   * Observes requests, on whichever thread completes them (a callback thread): a listener that
   * needs a thread of its own (Beam metrics need the DoFn's) queues the events for it.
   */
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
   * Runs {@code items} until each has an outcome, without blocking a thread: the future completes
   * when every item has one, or fails with a {@link WorkerException} when no worker can serve
   * (start failure, crash loop), leaving the items without one undone. Requests, retries and halves
   * of a split follow one another; the steps after the first run on the threads that complete the
   * requests (or, after a rate-limit delay, on the common pool).
   */
  public CompletableFuture<Void> run(List<BatchItem> items) {
    return step(items, false);
  }

  /** One request for the items still without an outcome, then what its failure calls for. */
  private CompletableFuture<Void> step(List<BatchItem> items, boolean crashedOnce) {
    List<BatchItem> pending = notDone(items);
    if (pending.isEmpty()) {
      return done();
    }
    if (cost.exhausted()) {
      for (BatchItem it : pending) {
        it.fail(Failures.BUDGET_EXHAUSTED,
            "the token budget (withTokenBudget) was spent before this element was sent", null);
      }
      return done();
    }
    long waitNanos = cost.reserve(pending.size());
    boolean exclusive = pending.size() == 1 && pending.get(0).crashes() > 0;
    CompletableFuture<Void> admitted = waitNanos <= 0 ? done()
        : CompletableFuture.runAsync(() -> {}, CompletableFuture.delayedExecutor(waitNanos, TimeUnit.NANOSECONDS));
    return admitted.thenCompose(v -> sendOnce(pending, exclusive))
        .thenCompose(error -> afterFailure(pending, exclusive, crashedOnce, error));
  }

  /** What a failed request calls for: nothing more, a retry as it is, a split, or giving up. */
  private CompletableFuture<Void> afterFailure(
      List<BatchItem> pending, boolean exclusive, boolean crashedOnce, WorkerException error) {
    if (error == null) {
      return done();
    }
    List<BatchItem> left = notDone(pending);
    LOG.info("a request of {} element(s) failed with {} ({} reported before): {}", pending.size(),
        error.getClass().getSimpleName(), pending.size() - left.size(), error.getMessage());
    if (left.isEmpty()) {
      return done();
    }
    String worker = error.worker().orElse(null);
    if (error instanceof UnsupportedRequestException) {
      // The worker cannot take such a request at all (a V1 peer): no element is to blame.
      for (BatchItem it : left) {
        it.fail(Failures.HANDLER_ERROR, error.getMessage(), worker);
      }
      return done();
    }
    if (error instanceof RemoteHandlerException) {
      if (left.size() == 1) {
        left.get(0).fail(Failures.HANDLER_ERROR, error.getMessage(), worker);
        return done();
      }
      listener.retry();
      return splitAndRun(left);
    }
    if (!error.isRetryable()) {
      return CompletableFuture.failedFuture(error);
    }
    for (BatchItem it : left) {
      it.markCrashed();
    }
    if (left.size() == 1) {
      BatchItem poison = left.get(0);
      if (exclusive && poison.sent() >= maxAttempts) {
        poison.fail(Failures.WORKER_CRASHED, error.getMessage(), worker);
        return done();
      }
      listener.retry();
      return step(left, crashedOnce);
    }
    listener.retry();
    return crashedOnce ? splitAndRun(left) : step(left, true);
  }

  /** The halves one after the other, each handled as a batch of its own. */
  private CompletableFuture<Void> splitAndRun(List<BatchItem> left) {
    int half = left.size() / 2;
    List<BatchItem> second = new ArrayList<>(left.subList(half, left.size()));
    return run(new ArrayList<>(left.subList(0, half))).thenCompose(v -> run(second));
  }

  /** One request; completes with null when it completed, else with why it failed. */
  private CompletableFuture<WorkerException> sendOnce(List<BatchItem> pending, boolean exclusive) {
    List<Object> payloads = new ArrayList<>(pending.size());
    long bytes = 0;
    for (BatchItem it : pending) {
      it.markSent();
      payloads.add(it.payload());
      bytes += it.bytes();
    }
    long size = bytes;
    Collector sink = new Collector(pending);
    long t0 = System.nanoTime();
    CompletableFuture<?> sent;
    try {
      sent = sender.send(payloads, sink, exclusive ? Exclusivity.EXCLUSIVE : Exclusivity.SHARED);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    return sent.handle((v, err) -> {
      Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
      if (cause != null && !(cause instanceof WorkerException)) {
        // Not a worker fault (a client bug, a broken answer): the batch fails as it is.
        throw new CompletionException(cause);
      }
      listener.request(pending.size(), size, (System.nanoTime() - t0) / 1_000_000, cause != null);
      long[] u = sink.usage();
      if (u[0] + u[1] + u[2] > 0) {
        listener.usage(u[0], u[1], u[2]);
        cost.spend(u[0] + u[1]);
      }
      if (cause == null) {
        for (BatchItem it : pending) {
          // A stream that ended without reporting an element broke the protocol's promise.
          it.fail(Failures.MISSING_RESULT, "the worker ended the request without a result for this element", sink.worker);
        }
      }
      return (WorkerException) cause;
    });
  }

  private static CompletableFuture<Void> done() {
    return CompletableFuture.completedFuture(null);
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
