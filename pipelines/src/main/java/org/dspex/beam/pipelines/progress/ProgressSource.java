package org.dspex.beam.pipelines.progress;

import java.util.concurrent.CompletableFuture;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.transforms.metrics.DSPexMetrics;

/**
 * Where the progress of a job is read from: {@link #of} while it runs, {@link #last} once it is
 * done, both from the {@code PipelineResult}'s metrics, with the JVM-local counters ({@link
 * JobCounters}) for runners that publish none while a job runs.
 */
@FunctionalInterface
public interface ProgressSource {
  /** The counts now; null while the runner has reported none. */
  @Nullable Snapshot snapshot();

  /**
   * From the job's Beam metrics ({@link JobCounters} and the {@code dspex} counters), attempted
   * values: live where the runner publishes metrics while a job runs (the DirectRunner, Dataflow),
   * final on every runner once the job is done. With {@code live},
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
   * The progress of a job whose runner's {@code run()} completes {@code started}, the same way on
   * every runner: the result's metrics ({@link #metrics}, live) once {@code run()} has returned,
   * each count raised to the JVM-local one ({@link #local}) where that is ahead. A runner whose
   * {@code run()} returns at once reports live metrics (the DirectRunner as the command sets it
   * up, Dataflow); while a blocking {@code run()} has not returned (Flink) the local counts stand
   * in, live where the job runs in this JVM, and null (nothing known) where it runs elsewhere.
   */
  static ProgressSource of(CompletableFuture<PipelineResult> started, String jobId) {
    ProgressSource local = local(jobId);
    return () -> {
      Snapshot here = JobCounters.seen(jobId) ? local.snapshot() : null;
      if (!started.isDone() || started.isCompletedExceptionally()) {
        return here;
      }
      Snapshot m = metrics(started.join(), true).snapshot();
      return here == null ? m : new Snapshot(Math.max(m.written(), here.written()),
          Math.max(m.failed(), here.failed()), m.promptTokens(), m.completionTokens(), m.lmCalls());
    };
  }

  /**
   * The counts of a finished job for its summary: what reached the output and the failures by the
   * final metrics, which every runner reports; the JVM-local counts where the metrics hold fewer
   * (or cannot be read).
   */
  static Snapshot last(PipelineResult result, String jobId) {
    Snapshot local = local(jobId).snapshot();
    try {
      Snapshot m = metrics(result, false).snapshot();
      return m.done() >= local.done() ? m : new Snapshot(local.written(), local.failed(),
          m.promptTokens(), m.completionTokens(), m.lmCalls());
    } catch (RuntimeException e) {
      return local;
    }
  }

  /**
   * From the JVM-local counters of job {@code jobId} ({@link JobCounters#local}): live when the job
   * runs in this JVM (DirectRunner, Flink {@code [local]}), zero for a remote cluster. No LM tokens.
   */
  static ProgressSource local(String jobId) {
    return () -> new Snapshot(JobCounters.local(jobId, JobCounters.WRITTEN),
        JobCounters.local(jobId, JobCounters.FAILED), 0, 0, 0);
  }

  /**
   * Attempted values only: they only grow. Mixing in committed values, which lag them, made the
   * count go backwards between two progress lines.
   */
  private static long value(MetricResult<Long> c) {
    return c.getAttempted();
  }

}
