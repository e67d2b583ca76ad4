package org.dspex.beam.transforms.batching;

import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.connector.worker.WorkerPools;
import org.dspex.beam.transforms.failures.ElementJson;
import org.dspex.beam.transforms.failures.Failures;
import org.dspex.beam.transforms.metrics.DSPexMetrics;

/**
 * What one batching DoFn instance holds between {@code @Setup} and {@code @Teardown}: the JVM-wide
 * pool, the model's handle, the executor, the metrics. Turns rows into batch items and items back
 * into output or failure rows. Not serializable: made in {@code @Setup}.
 */
final class InferenceCore {
  private final InferenceSpec spec;
  private final DSPexMetrics metrics = new DSPexMetrics();
  private final WorkerPool pool;
  private final BatchExecutor.CostControl cost;
  private final BatchExecutor executor;
  private final @Nullable Deduplication dedup;
  // Executor events from the pool's callback threads, applied on the DoFn thread (Beam metrics need it).
  private final Queue<Consumer<DSPexMetrics>> metricEvents = new ConcurrentLinkedQueue<>();

  /** Acquires the pool for the spec's model; throws when no worker can start. */
  InferenceCore(InferenceSpec spec) throws WorkerException {
    this.spec = spec;
    ModelClient client = spec.client();
    WorkerPool acquired = WorkerPools.acquire(client.workerConfig());
    String handle;
    try {
      List<Map<String, Object>> setups = acquired.setupResults();
      handle = String.valueOf(setups.get(setups.size() - 1).get("handle"));
    } catch (WorkerException | RuntimeException e) {
      WorkerPools.release(acquired);
      throw e;
    }
    this.pool = acquired;
    this.cost = SharedCostControl.forKey(spec.costKey(), spec.tokenBudget(), spec.callsPerSecond());
    this.dedup = Deduplication.forKey(spec.costKey(), spec.dedupCapacity());
    this.executor = new BatchExecutor(
        (payloads, sink, exclusivity) -> client.send(pool, handle, payloads, spec.format(), sink, exclusivity),
        spec.maxAttempts(), cost, new MetricsListener(metricEvents));
  }

  /**
   * Batches one DoFn instance keeps in flight: one per worker, so one instance alone (a runner
   * giving the transform one thread) keeps every worker busy, plus one queued behind them so a
   * worker finishing finds the next batch waiting. A worker serves a model's requests in arrival
   * order, so more would only add latency and memory.
   */
  int batchesInFlight() {
    return pool.config().workers() + 1;
  }

  /**
   * The element's batch item; already failed (and never to be sent) when larger than {@code
   * maxElementBytes}. Counts the element.
   */
  BatchItem item(Row input) {
    metrics.elements.inc();
    Object payload = spec.client().payload(input);
    if (payload == null) {
      BatchItem missing = new BatchItem(null, 0);
      missing.fail(Failures.MISSING_INPUT, spec.client().missingInputMessage() + "; it was not sent", null);
      return missing;
    }
    long bytes = spec.client().payloadBytes(payload);
    BatchItem item = new BatchItem(payload, bytes);
    if (bytes > spec.maxElementBytes()) {
      item.fail(Failures.ELEMENT_TOO_LARGE, "the element is " + bytes + " bytes as JSON, above"
          + " withMaxElementBytes(" + spec.maxElementBytes() + "); it was not sent", null);
    }
    return item;
  }

  /**
   * The claim of a sendable item on its payload ({@link Deduplication}), or null when deduplication
   * is off. A claim that does not lead counts as a dedup hit.
   */
  Deduplication.@Nullable Claim claim(BatchItem item) {
    if (dedup == null) {
      return null;
    }
    Deduplication.Claim c = dedup.claim(item);
    if (!c.leads()) {
      metrics.dedupHits.inc();
    }
    return c;
  }

  /** Settles the leading claims of a request that is over ({@code failure}: no worker could serve). */
  void settle(List<Deduplication.Claim> claims, List<BatchItem> items, @Nullable Throwable failure) {
    for (int i = 0; i < items.size(); i++) {
      Deduplication.Claim c = claims.get(i);
      if (c != null && c.leads()) {
        dedup.settle(c, items.get(i), failure);
      }
    }
  }

  /** Gives each item an outcome; throws when no worker can serve. */
  void run(List<BatchItem> items) throws WorkerException, InterruptedException {
    await(submit(items));
  }

  /**
   * Starts giving each item an outcome and returns at once, so the caller can go on batching while
   * the workers serve these; {@link #await} the result on the DoFn thread. No thread is started or
   * held for it: the requests' own completions drive retries and splits.
   */
  CompletableFuture<Void> submit(List<BatchItem> items) {
    return executor.run(items);
  }

  /**
   * Waits for a {@link #submit}ted batch, or a leader's outcome ({@link Deduplication.Claim#outcome()}),
   * and returns its value; throws what its run failed with (no worker can serve).
   */
  <T> T await(CompletableFuture<T> sent) throws WorkerException, InterruptedException {
    try {
      return sent.get();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof WorkerException) {
        throw (WorkerException) c;
      }
      if (c instanceof RuntimeException) {
        throw (RuntimeException) c;
      }
      if (c instanceof Error) {
        throw (Error) c;
      }
      throw new IllegalStateException(c);
    } finally {
      reportMetrics();
    }
  }

  /** Applies the executor's events so far to the metrics; on the DoFn thread. */
  private void reportMetrics() {
    for (Consumer<DSPexMetrics> e = metricEvents.poll(); e != null; e = metricEvents.poll()) {
      e.accept(metrics);
    }
  }

  /** The output row of a succeeded item. */
  Row outputRow(Row input, BatchItem item) {
    return Row.withSchema(spec.outputSchema()).addValues(input.getValues()).addValues(item.outputs()).build();
  }

  /**
   * The failure row of a failed item (counted). Its message holds no secret: the connector redacts
   * the client's secret env values from every message it delivers, element failures included.
   */
  Row failureRow(Row input, BatchItem item) {
    metrics.failedElements.inc();
    return Failures.row(ElementJson.json(ElementJson.toMap(input)), item.errorType(), item.errorMessage(),
        item.sent(), item.worker());
  }

  /**
   * Reports the pool's counters since the last report; tokens that workers paid for and never
   * reported (their usage ledgers) are spent from the token budget too.
   */
  void reportPool() {
    long unreportedTokens = metrics.reportPool(pool);
    if (unreportedTokens > 0) {
      cost.spend(unreportedTokens);
    }
  }

  /** Gives the pool back; the last holder in the JVM stops the workers. */
  void release() {
    WorkerPools.release(pool);
  }

  /** Executor events as Beam metrics, queued for the DoFn thread: requests complete on callback threads. */
  private static final class MetricsListener implements BatchExecutor.Listener {
    private final Queue<Consumer<DSPexMetrics>> events;

    MetricsListener(Queue<Consumer<DSPexMetrics>> events) {
      this.events = events;
    }

    @Override
    public void request(int size, long bytes, long millis, boolean failed) {
      events.add(m -> {
        m.batches.inc();
        m.batchSize.update(size);
        m.batchByteSize.update(bytes);
        m.batchLatencyMillis.update(millis);
        if (failed) {
          m.failedBatches.inc();
        }
      });
    }

    @Override
    public void retry() {
      events.add(m -> m.retries.inc());
    }

    @Override
    public void usage(long promptTokens, long completionTokens, long calls) {
      events.add(m -> {
        m.lmPromptTokens.inc(promptTokens);
        m.lmCompletionTokens.inc(completionTokens);
        m.lmCalls.inc(calls);
      });
    }
  }
}
