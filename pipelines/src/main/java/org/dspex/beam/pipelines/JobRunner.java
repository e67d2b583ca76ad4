package org.dspex.beam.pipelines;

import java.io.IOException;
import java.io.PrintStream;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.pipelines.io.EmptyOutputs;
import org.dspex.beam.pipelines.io.FailureRecords;
import org.dspex.beam.pipelines.io.OutputTarget;
import org.dspex.beam.pipelines.io.ReadRecords;
import org.dspex.beam.pipelines.io.WriteFailures;
import org.dspex.beam.pipelines.io.WriteOutput;
import org.dspex.beam.pipelines.progress.FailureTally;
import org.dspex.beam.pipelines.progress.JobCounters;
import org.dspex.beam.pipelines.progress.ProgressReporter;
import org.dspex.beam.pipelines.progress.ProgressSource;
import org.dspex.beam.pipelines.progress.Snapshot;
import org.dspex.beam.pipelines.progress.Summary;

/**
 * Builds, runs and reports one {@link Job}: read the input into rows (unparseable or ill-typed
 * records straight to the failures), apply the model, write the output columns and the failures
 * file, show progress while it runs, print the summary and tell how it went ({@link Outcome}).
 *
 * <p>Any Beam runner: {@code run()} gets a thread of its own, since some runners return from it at
 * once (the DirectRunner as the command sets it up) and others block until the job ends (Flink).
 * Progress comes from the result's metrics once {@code run()} returned, and from JVM-local
 * counters ({@link JobCounters}) where the job runs in this JVM; the summary uses the final
 * metrics.
 */
public final class JobRunner {
  private final JobSettings settings;
  private final PrintStream err;
  private final boolean terminal;

  /** How a job that ran to its end went; the command maps it to its exit code. */
  public enum Outcome {
    /** Done; the failure rate is within {@code --max-failure-rate}. */
    DONE,
    /** Done, but more records failed than {@code --max-failure-rate} allows. */
    TOO_MANY_FAILURES
  }

  /** Runs with {@code settings}, reporting to {@code err}; {@code terminal} for a live bar. */
  public JobRunner(JobSettings settings, PrintStream err, boolean terminal) {
    this.settings = settings;
    this.err = err;
    this.terminal = terminal;
  }

  /** The output target of the settings, after the existence check (and {@code --overwrite}). */
  public OutputTarget prepareOutput() {
    OutputTarget target;
    try {
      target = OutputTarget.of(settings.output(), settings.shards());
    } catch (IllegalArgumentException e) {
      throw new UsageError("cannot write --output " + e.getMessage(), e);
    }
    String existing;
    try {
      existing = target.existing();
    } catch (IOException e) {
      throw new UsageError("cannot check whether the output '" + target.output() + "' exists: " + e.getMessage(), e);
    }
    if (existing != null) {
      if (!settings.overwrite()) {
        throw new UsageError("output '" + existing + "' exists; give --overwrite to replace it");
      }
      try {
        target.deleteExisting();
      } catch (IOException e) {
        throw new UsageError("cannot remove the existing output '" + existing + "': " + e.getMessage());
      }
    }
    try {
      target.makeFolders();
    } catch (IOException e) {
      throw new UsageError("cannot create the output folder: " + e.getMessage());
    }
    return target;
  }

  /**
   * Runs {@code job} to the end and prints its summary.
   *
   * @return whether the failures stayed within the limit
   * @throws UsageError for a job that cannot be built from the user's input
   * @throws RuntimeException when the job fails
   */
  public Outcome run(Job job, OutputTarget target) throws Exception {
    String jobId = UUID.randomUUID().toString();
    Pipeline p = Pipeline.create(settings.pipelineOptions());
    PCollectionTuple read = p.apply("Read", new ReadRecords(job.input().pattern(), job.input().format(),
        job.input().replay(), job.layout(), job.input().maxLineBytes(), settings.chunkSize()));
    Job.ModelOutput model;
    try {
      model = job.model().apply(read.get(ReadRecords.ROWS));
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage(), e);
    }
    Schema written = WriteOutput.project(model.output().getSchema(), job.outputColumns());
    model.output()
        .apply("CountWritten", ParDo.of(JobCounters.<Row>counting(jobId, JobCounters.WRITTEN)))
        .setRowSchema(model.output().getSchema())
        .apply("WriteOutput", new WriteOutput(target, job.outputColumns()));
    PCollection<Row> readFailures = read.get(ReadRecords.FAILURES)
        .apply("CountReadFailed", ParDo.of(JobCounters.<Row>counting(jobId, JobCounters.READ_FAILED)))
        .setRowSchema(FailureRecords.SCHEMA);
    PCollectionList.of(readFailures).and(model.failures())
        .apply("AllFailures", Flatten.pCollections())
        .setRowSchema(FailureRecords.SCHEMA)
        .apply("CountFailed", ParDo.of(JobCounters.<Row>counting(jobId, JobCounters.FAILED)))
        .setRowSchema(FailureRecords.SCHEMA)
        .apply("WriteFailures", new WriteFailures(target));
    try {
      return runAndReport(p, job, target, jobId, written);
    } finally {
      target.deleteTemp();
    }
  }

  private Outcome runAndReport(Pipeline p, Job job, OutputTarget target, String jobId, Schema written)
      throws Exception {
    long start = System.nanoTime();
    // Some runners return from run() at once and report live metrics (the DirectRunner without
    // blockOnRun, Dataflow), others block until the job ends (Flink): run() gets a thread of its
    // own, so one path serves both, and progress reads whatever counts exist meanwhile.
    CompletableFuture<PipelineResult> started =
        CompletableFuture.supplyAsync(p::run, task -> new Thread(task, "dspex-run").start());
    ProgressReporter progress = new ProgressReporter(ProgressSource.of(started, jobId), job.input().total(),
        terminal, err, start).start();
    PipelineResult result;
    try {
      result = started.get();
      result.waitUntilFinish();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
    } finally {
      progress.stop(null);
    }
    PipelineResult.State state = result.getState();
    if (state != PipelineResult.State.DONE) {
      IllegalStateException e = new IllegalStateException("the runner ended the job in state " + state);
      if (HeapAfterGc.nearlyFull()) {
        // The runner swallowed the error itself; this cause makes the command report it as such.
        e.initCause(new OutOfMemoryError("the heap was nearly full after the last collection"));
      }
      throw e;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    EmptyOutputs.ensure(target, written);
    Snapshot last = ProgressSource.last(result, jobId);
    FailureTally tally = FailureTally.read(target.failures());
    new Summary(job.command(), seconds, last.written(), target.output(), tally, target.failures(), last,
        job.notes()).print(err);
    long errors = tally.totalExcept(job.notErrors());
    long total = last.written() + tally.total();
    double rate = total == 0 ? 0 : (double) errors / total;
    if (rate > settings.maxFailureRate()) {
      err.printf(java.util.Locale.ROOT, "dspex: %.2f%% of the records failed, above --max-failure-rate %s%n",
          100 * rate, settings.maxFailureRate());
      return Outcome.TOO_MANY_FAILURES;
    }
    return Outcome.DONE;
  }
}
