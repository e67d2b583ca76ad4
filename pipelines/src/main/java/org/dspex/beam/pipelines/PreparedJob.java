package org.dspex.beam.pipelines;

import java.util.UUID;
import org.apache.beam.sdk.Pipeline;
import org.dspex.beam.pipelines.io.OutputTarget;

/**
 * One job of the command line, before it runs: its settings checked, its input probed, its output
 * prepared (the temporary folder made). The command {@link #run}s it; a tool or a test may instead
 * build its {@link #pipeline()} to inspect or translate the very graph the command would run (the
 * Dataflow module's test translates it into a Dataflow job offline). {@link #close()} removes the
 * output's temporary folder, as {@link #run} does at its end.
 *
 * <pre>{@code
 * try (PreparedJob job = DSPexCli.prepare("embed", "--input", "gs://b/in.jsonl", "--output", "gs://b/out.jsonl")) {
 *   Pipeline p = job.pipeline();   // not run
 *   ...
 * }
 * }</pre>
 */
public final class PreparedJob implements AutoCloseable {
  private final JobRunner runner;
  private final Job job;
  private final OutputTarget target;

  /** The {@code job} that {@code runner} runs into {@code target} (from {@link JobRunner#prepareOutput()}). */
  public PreparedJob(JobRunner runner, Job job, OutputTarget target) {
    this.runner = runner;
    this.job = job;
    this.target = target;
  }

  /** The job, as the subcommand described it. */
  public Job job() {
    return job;
  }

  /** Where the job writes. */
  public OutputTarget target() {
    return target;
  }

  /**
   * A new pipeline of this job, as {@link #run} would run it, with new options from the settings
   * (which the caller may change before {@code run()}); not run.
   */
  public Pipeline pipeline() {
    return runner.pipeline(job, target, UUID.randomUUID().toString());
  }

  /** Runs the job to its end ({@link JobRunner#run(Job, OutputTarget, JobRunner.ExtraFiles)}). */
  public JobRunner.Outcome run(JobRunner.ExtraFiles extras) throws Exception {
    return runner.run(job, target, extras);
  }

  /** Removes the output's temporary folder ({@link JobRunner#release}); {@link #run} does it too. */
  @Override
  public void close() {
    runner.release(target);
  }
}
