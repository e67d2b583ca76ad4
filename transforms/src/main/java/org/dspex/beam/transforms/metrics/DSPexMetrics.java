package org.dspex.beam.transforms.metrics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.connector.worker.WorkerStats;

/**
 * The Beam metrics of DESIGN.md section 2, namespace {@value #NAMESPACE}, one name each:
 *
 * <ul>
 *   <li>counters {@code elements} (input elements handled: output plus failures), {@code
 *       failed_elements}, {@code batches} (requests sent), {@code failed_batches}, {@code
 *       retries}, {@code worker_restarts}, {@code lm_calls}, {@code lm_prompt_tokens}, {@code
 *       lm_completion_tokens}, {@code dedup_hits} (elements not sent because an identical one was:
 *       they copy its outcome), {@code bytes_json}, {@code bytes_msgpack}, {@code bytes_arrow},
 *       {@code bytes_numpy}, {@code bytes_ref} (body bytes both ways, one counter per content format
 *       of the codec registry, named by {@link WorkerStats#BODY_BYTE_COUNTERS});
 *   <li>distributions {@code batch_size}, {@code batch_byte_size}, {@code batch_latency_millis},
 *       {@code worker_start_latency_millis}.
 * </ul>
 *
 * <p>Beam metrics must be updated on the thread running the DoFn, so worker-side counters (from
 * the pool's {@link WorkerStats}) are reported as differences in {@code @FinishBundle}; since one
 * pool serves every DoFn instance of the JVM, each difference is claimed by one instance only.
 * {@code lm_calls}, {@code lm_prompt_tokens} and {@code lm_completion_tokens} count what the
 * workers' answers report, as requests complete, plus what the pool found in the usage ledger of a
 * worker that ended without reporting it ({@link WorkerStats#unreportedLmCalls()}: a worker that
 * died after paying for calls whose answers it never sent, or with calls in flight), so every LM
 * call a worker made counts once.
 */
public final class DSPexMetrics {
  /** The metrics namespace. */
  public static final String NAMESPACE = "dspex";

  public final Counter elements = Metrics.counter(NAMESPACE, "elements");
  public final Counter failedElements = Metrics.counter(NAMESPACE, "failed_elements");
  public final Counter batches = Metrics.counter(NAMESPACE, "batches");
  public final Counter failedBatches = Metrics.counter(NAMESPACE, "failed_batches");
  public final Counter retries = Metrics.counter(NAMESPACE, "retries");
  public final Counter workerRestarts = Metrics.counter(NAMESPACE, "worker_restarts");
  public final Counter lmCalls = Metrics.counter(NAMESPACE, "lm_calls");
  public final Counter lmPromptTokens = Metrics.counter(NAMESPACE, "lm_prompt_tokens");
  public final Counter lmCompletionTokens = Metrics.counter(NAMESPACE, "lm_completion_tokens");
  public final Counter dedupHits = Metrics.counter(NAMESPACE, "dedup_hits");
  public final Distribution batchSize = Metrics.distribution(NAMESPACE, "batch_size");
  public final Distribution batchByteSize = Metrics.distribution(NAMESPACE, "batch_byte_size");
  public final Distribution batchLatencyMillis = Metrics.distribution(NAMESPACE, "batch_latency_millis");
  public final Distribution workerStartLatencyMillis =
      Metrics.distribution(NAMESPACE, "worker_start_latency_millis");
  private static final List<String> BODY_BYTES = WorkerStats.BODY_BYTE_COUNTERS;
  private final Map<String, Counter> bytes = new LinkedHashMap<>();

  private static final Map<WorkerPool, long[]> REPORTED = new WeakHashMap<>();
  private static final int RESTARTS = 0;
  private static final int STARTS = 1;
  private static final int START_MICROS = 2;
  private static final int LM_CALLS = 3;
  private static final int LM_PROMPT = 4;
  private static final int LM_COMPLETION = 5;
  private static final int BYTES = 6;

  /** The metrics, for use on the DoFn's thread. */
  public DSPexMetrics() {
    for (String counter : BODY_BYTES) {
      bytes.put(counter, Metrics.counter(NAMESPACE, counter));
    }
  }

  /**
   * Reports what {@code pool} counted since the last report by any instance.
   *
   * @return the LM tokens (prompt and completion) among them: usage no answer reported, which a
   *     token budget must count too
   */
  public long reportPool(WorkerPool pool) {
    WorkerStats s = pool.stats();
    long[] now = new long[BYTES + BODY_BYTES.size()];
    now[RESTARTS] = s.workerRestarts();
    now[STARTS] = s.startLatency().count();
    now[START_MICROS] = s.startLatency().sumMicros();
    now[LM_CALLS] = s.unreportedLmCalls();
    now[LM_PROMPT] = s.unreportedPromptTokens();
    now[LM_COMPLETION] = s.unreportedCompletionTokens();
    for (int i = 0; i < BODY_BYTES.size(); i++) {
      now[BYTES + i] = s.bodyBytes(BODY_BYTES.get(i));
    }
    long[] delta = new long[now.length];
    synchronized (REPORTED) {
      long[] last = REPORTED.computeIfAbsent(pool, p -> new long[now.length]);
      for (int i = 0; i < now.length; i++) {
        delta[i] = Math.max(0, now[i] - last[i]);
        last[i] = Math.max(last[i], now[i]);
      }
    }
    inc(workerRestarts, delta[RESTARTS]);
    if (delta[STARTS] > 0) {
      long avgMillis = delta[START_MICROS] / delta[STARTS] / 1000;
      long maxMillis = s.startLatency().maxMicros() / 1000;
      long minMillis = Math.min(avgMillis, s.startLatency().minMicros() / 1000);
      workerStartLatencyMillis.update(delta[START_MICROS] / 1000, delta[STARTS], minMillis,
          Math.max(avgMillis, maxMillis));
    }
    inc(lmCalls, delta[LM_CALLS]);
    inc(lmPromptTokens, delta[LM_PROMPT]);
    inc(lmCompletionTokens, delta[LM_COMPLETION]);
    for (int i = 0; i < BODY_BYTES.size(); i++) {
      inc(bytes.get(BODY_BYTES.get(i)), delta[BYTES + i]);
    }
    return delta[LM_PROMPT] + delta[LM_COMPLETION];
  }

  private static void inc(Counter counter, long n) {
    if (n > 0) {
      counter.inc(n);
    }
  }
}
