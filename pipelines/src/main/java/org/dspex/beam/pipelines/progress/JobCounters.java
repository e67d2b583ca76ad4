package org.dspex.beam.pipelines.progress;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.Row;

/**
 * The command's own counters of finished records, namespace {@value #NAMESPACE}: {@value #WRITTEN}
 * (records on their way to the output), {@value #FAILED} (records on their way to the failures
 * file), {@value #FAILED_PREFIX}{@code <error type>} (those by error type, which the summary and
 * the exit code use) and {@value #READ_FAILED} (the part of them that failed before the model).
 * Each is a Beam counter and also a JVM-local one keyed by job id.
 *
 * <p>The local ones exist for runners that publish no metrics while a job runs: Beam 2.62's Flink
 * batch translation registers a task's metrics with Flink only when the task closes (the whole
 * task is one bundle), so neither the {@code PipelineResult} (which the blocking {@code run()}
 * returns only at the end anyway), nor Flink's accumulators, nor its metric reporters see a
 * count before then. Where the job runs in this JVM (Flink's {@code [local]} cluster) the local
 * counters are live; on a remote cluster they stay unset ({@link #seen}).
 */
public final class JobCounters {
  /** The metrics namespace. */
  public static final String NAMESPACE = "dspex_cli";
  /** Records sent to the output. */
  public static final String WRITTEN = "written";
  /** Records sent to the failures file. */
  public static final String FAILED = "failed";
  /** Records that failed while read (unparseable, ill-typed). */
  public static final String READ_FAILED = "read_failed";
  /** Prefix of the counters of records sent to the failures file by error type. */
  public static final String FAILED_PREFIX = "failed_";

  private static final Map<String, AtomicLong> LOCAL = new ConcurrentHashMap<>();

  private JobCounters() {}

  /** The JVM-local count of {@code name} for job {@code jobId} (0 when nothing counted here). */
  public static long local(String jobId, String name) {
    AtomicLong a = LOCAL.get(jobId + "/" + name);
    return a == null ? 0 : a.get();
  }

  /** Whether any counter of job {@code jobId} was set up in this JVM (its steps run here). */
  public static boolean seen(String jobId) {
    String prefix = jobId + "/";
    return LOCAL.keySet().stream().anyMatch(k -> k.startsWith(prefix));
  }

  /**
   * The JVM-local counts of job {@code jobId}'s failures by error type (empty when nothing counted
   * here).
   */
  public static Map<String, Long> localByType(String jobId) {
    String prefix = jobId + "/" + FAILED_PREFIX;
    Map<String, Long> out = new TreeMap<>();
    LOCAL.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        out.put(k.substring(prefix.length()), v.get());
      }
    });
    return out;
  }

  /**
   * A pass-through DoFn over failure rows ({@code error_type} a string field) counting them as
   * {@link #FAILED} and as {@value #FAILED_PREFIX}{@code <error type>} of job {@code jobId}.
   */
  public static DoFn<Row, Row> countingFailures(String jobId, String typeField) {
    return new CountFailuresFn(jobId, typeField);
  }

  /** A pass-through DoFn counting its elements as {@code name} of job {@code jobId}. */
  public static <T> DoFn<T, T> counting(String jobId, String name) {
    return new CountFn<>(jobId, name);
  }

  /** One count: the Beam counter and the JVM-local one of the same name. */
  private static final class Count {
    private final Counter counter;
    private final AtomicLong local;

    Count(String jobId, String name) {
      counter = Metrics.counter(NAMESPACE, name);
      local = LOCAL.computeIfAbsent(jobId + "/" + name, k -> new AtomicLong());
    }

    void inc() {
      counter.inc();
      local.incrementAndGet();
    }
  }

  private static final class CountFailuresFn extends DoFn<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final String jobId;
    private final String typeField;
    private transient Count failed;
    private transient Map<String, Count> byType;

    CountFailuresFn(String jobId, String typeField) {
      this.jobId = jobId;
      this.typeField = typeField;
    }

    @Setup
    public void setup() {
      failed = new Count(jobId, FAILED);
      byType = new HashMap<>();
    }

    @ProcessElement
    public void process(@Element Row r, OutputReceiver<Row> out) {
      failed.inc();
      byType.computeIfAbsent(FAILED_PREFIX + r.getString(typeField), n -> new Count(jobId, n)).inc();
      out.output(r);
    }
  }

  private static final class CountFn<T> extends DoFn<T, T> {
    private static final long serialVersionUID = 1L;
    private final String jobId;
    private final String name;
    private transient Count count;

    CountFn(String jobId, String name) {
      this.jobId = jobId;
      this.name = name;
    }

    @Setup
    public void setup() {
      count = new Count(jobId, name);
    }

    @ProcessElement
    public void process(@Element T e, OutputReceiver<T> out) {
      count.inc();
      out.output(e);
    }
  }
}
