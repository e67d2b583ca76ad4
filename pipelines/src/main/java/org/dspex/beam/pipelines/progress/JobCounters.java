package org.dspex.beam.pipelines.progress;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;

/**
 * The command's own counters of finished records, namespace {@value #NAMESPACE}: {@value #WRITTEN}
 * (records on their way to the output), {@value #FAILED} (records on their way to the failures
 * file) and {@value #READ_FAILED} (the part of those that failed before the model). Each is a Beam counter and also a JVM-local one keyed by job id: the FlinkRunner's {@code
 * run()} blocks until the job ends and reports no live metrics, but its local mode runs the job in
 * this JVM, where the local counters are live.
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

  private static final Map<String, AtomicLong> LOCAL = new ConcurrentHashMap<>();

  private JobCounters() {}

  /** The JVM-local count of {@code name} for job {@code jobId} (0 when nothing counted here). */
  public static long local(String jobId, String name) {
    AtomicLong a = LOCAL.get(jobId + "/" + name);
    return a == null ? 0 : a.get();
  }

  /** A pass-through DoFn counting its elements as {@code name} of job {@code jobId}. */
  public static <T> DoFn<T, T> counting(String jobId, String name) {
    return new CountFn<>(jobId, name);
  }

  private static final class CountFn<T> extends DoFn<T, T> {
    private static final long serialVersionUID = 1L;
    private final String jobId;
    private final String name;
    private transient Counter counter;
    private transient AtomicLong local;

    CountFn(String jobId, String name) {
      this.jobId = jobId;
      this.name = name;
    }

    @Setup
    public void setup() {
      counter = Metrics.counter(NAMESPACE, name);
      local = LOCAL.computeIfAbsent(jobId + "/" + name, k -> new AtomicLong());
    }

    @ProcessElement
    public void process(@Element T e, OutputReceiver<T> out) {
      counter.inc();
      local.incrementAndGet();
      out.output(e);
    }
  }
}
