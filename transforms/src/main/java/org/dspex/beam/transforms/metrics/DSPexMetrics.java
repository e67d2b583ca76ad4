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
 *       lm_completion_tokens}, {@code bytes_json}, {@code bytes_msgpack}, {@code bytes_arrow},
 *       {@code bytes_numpy}, {@code bytes_ref} (body bytes both ways, one counter per content format
 *       of the codec registry, named by {@link WorkerStats#BODY_BYTE_COUNTERS});
 *   <li>distributions {@code batch_size}, {@code batch_byte_size}, {@code batch_latency_millis},
 *       {@code worker_start_latency_millis}.
 * </ul>
 *
 * <p>Beam metrics must be updated on the thread running the DoFn, so worker-side counters (from
 * the pool's {@link WorkerStats}) are reported as differences in {@code @FinishBundle}; since one
 * pool serves every DoFn instance of the JVM, each difference is claimed by one instance only.
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
  private static final int BYTES = 3;

  /** The metrics, for use on the DoFn's thread. */
  public DSPexMetrics() {
    for (String counter : BODY_BYTES) {
      bytes.put(counter, Metrics.counter(NAMESPACE, counter));
    }
  }

  /** Reports what {@code pool} counted since the last report by any instance. */
  public void reportPool(WorkerPool pool) {
    WorkerStats s = pool.stats();
    long[] now = new long[BYTES + BODY_BYTES.size()];
    now[RESTARTS] = s.workerRestarts();
    now[STARTS] = s.startLatency().count();
    now[START_MICROS] = s.startLatency().sumMicros();
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
    if (delta[RESTARTS] > 0) {
      workerRestarts.inc(delta[RESTARTS]);
    }
    if (delta[STARTS] > 0) {
      long avgMillis = delta[START_MICROS] / delta[STARTS] / 1000;
      long maxMillis = s.startLatency().maxMicros() / 1000;
      long minMillis = Math.min(avgMillis, s.startLatency().minMicros() / 1000);
      workerStartLatencyMillis.update(delta[START_MICROS] / 1000, delta[STARTS], minMillis,
          Math.max(avgMillis, maxMillis));
    }
    for (int i = 0; i < BODY_BYTES.size(); i++) {
      long d = delta[BYTES + i];
      if (d > 0) {
        bytes.get(BODY_BYTES.get(i)).inc(d);
      }
    }
  }
}
