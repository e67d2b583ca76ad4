package org.dspex.beam.pipelines.progress;

import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.dspex.beam.transforms.metrics.DSPexMetrics;

/** Where the progress of a running job is read from. */
@FunctionalInterface
public interface ProgressSource {
  /** The counts now. */
  Snapshot snapshot();

  /**
   * From the job's Beam metrics ({@link JobCounters} and the {@code dspex} counters), attempted
   * values: live on the DirectRunner, final on every runner once the job is done. With {@code live},
   * records count as done once the model has handled them ({@code dspex} {@code elements}, {@code
   * failed_elements}, plus {@link JobCounters#READ_FAILED}): the DirectRunner queues the steps
   * after the model behind the model's remaining bundles, so the output counters alone would move
   * only at the end. Without it, exactly what reached the output and the failures.
   */
  static ProgressSource metrics(PipelineResult result, boolean live) {
    return () -> {
      MetricQueryResults q = result.metrics().queryMetrics(MetricsFilter.builder().build());
      long written = 0;
      long failed = 0;
      long prompt = 0;
      long completion = 0;
      long calls = 0;
      long readFailed = 0;
      long handled = 0;
      long handledFailed = 0;
      for (MetricResult<Long> c : q.getCounters()) {
        String ns = c.getName().getNamespace();
        String name = c.getName().getName();
        long v = value(c);
        if (JobCounters.NAMESPACE.equals(ns)) {
          if (JobCounters.WRITTEN.equals(name)) {
            written += v;
          } else if (JobCounters.FAILED.equals(name)) {
            failed += v;
          } else if (JobCounters.READ_FAILED.equals(name)) {
            readFailed += v;
          }
        } else if (DSPexMetrics.NAMESPACE.equals(ns)) {
          switch (name) {
            case "lm_prompt_tokens":
              prompt += v;
              break;
            case "lm_completion_tokens":
              completion += v;
              break;
            case "lm_calls":
              calls += v;
              break;
            case "elements":
              handled += v;
              break;
            case "failed_elements":
              handledFailed += v;
              break;
            default:
              break;
          }
        }
      }
      if (live) {
        written = Math.max(written, handled - handledFailed);
        failed = Math.max(failed, readFailed + handledFailed);
      }
      return new Snapshot(written, failed, prompt, completion, calls);
    };
  }

  /**
   * From the JVM-local counters of job {@code jobId} ({@link JobCounters#local}): live when the job
   * runs in this JVM (DirectRunner, Flink {@code [local]}), zero for a remote cluster. No LM tokens.
   */
  static ProgressSource local(String jobId) {
    return () -> new Snapshot(JobCounters.local(jobId, JobCounters.WRITTEN),
        JobCounters.local(jobId, JobCounters.FAILED), 0, 0, 0);
  }

  private static long value(MetricResult<Long> c) {
    try {
      Long committed = c.getCommitted();
      return committed != null && committed > 0 ? committed : c.getAttempted();
    } catch (UnsupportedOperationException e) {
      return c.getAttempted();
    }
  }
}
