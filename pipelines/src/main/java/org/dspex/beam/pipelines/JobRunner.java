package org.dspex.beam.pipelines;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.pipelines.io.BeamFiles;
import org.dspex.beam.pipelines.io.FailureRecords;
import org.dspex.beam.pipelines.io.FirstFailures;
import org.dspex.beam.pipelines.io.OutputAssembly;
import org.dspex.beam.pipelines.io.OutputGuard;
import org.dspex.beam.pipelines.io.OutputTarget;
import org.dspex.beam.pipelines.io.ReadRecords;
import org.dspex.beam.pipelines.io.ReplaceOutput;
import org.dspex.beam.pipelines.io.ShardFiles;
import org.dspex.beam.pipelines.io.TempFolder;
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
 * as shard files into a temporary folder, show progress while it runs; then assemble the output's
 * files from the shards, replace the previous output with them, print the summary and tell how it
 * went ({@link Outcome}). The summary's counts and the exit code come from the job's counters.
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
  /** Held while staged files replace the output, so that a SIGINT's cleanup waits for the renames. */
  private final Object replacing = new Object();
  private volatile @Nullable Thread cleanup;

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

  /**
   * Files a command writes beside the staged output before it replaces the old one (trainset's
   * input keys).
   */
  @FunctionalInterface
  public interface ExtraFiles {
    /** Writes the files next to {@code staged}'s output. */
    void write(OutputTarget staged) throws Exception;
  }

  /**
   * The output target of the settings, checked before any model work: not an input file or an
   * input's failures file, not existing unless {@code --overwrite} (and then not read-only), its
   * folder made and writable. Creates the job's temporary folder (removing those that dead jobs
   * for the same output left), which {@link #run} (or {@link #release}) removes again, as does a
   * SIGINT or SIGTERM.
   *
   * @throws UsageError naming the path and the cause
   */
  public OutputTarget prepareOutput() {
    OutputTarget target;
    try {
      target = OutputTarget.of(settings.output(), settings.shards());
    } catch (IllegalArgumentException e) {
      throw new UsageError("cannot write --output " + e.getMessage(), e);
    }
    String conflict = OutputGuard.conflict(target, inputFiles());
    if (conflict != null) {
      throw new UsageError(conflict);
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
      for (String f : target.files()) {
        if (OutputGuard.readOnly(f)) {
          throw new UsageError("output '" + f + "' is read-only; make it writable to replace it, or choose another"
              + " --output");
        }
      }
    }
    String folder = shown(target.folder());
    try {
      BeamFiles.makeFolder(target.folder());
    } catch (IOException e) {
      throw new UsageError("cannot create the output folder '" + folder + "': " + BeamFiles.describe(e), e);
    }
    try {
      TempFolder.sweep(target);
    } catch (IOException e) {
      // Left for the next job: a stale folder takes space, nothing else.
    }
    try {
      TempFolder.create(target);
    } catch (IOException e) {
      throw new UsageError("cannot write in the output folder '" + folder + "': " + BeamFiles.describe(e), e);
    }
    Thread hook = new Thread(() -> {
      synchronized (replacing) {
        deleteTemp(target);
      }
    }, "dspex-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    cleanup = hook;
    return target;
  }

  /** The input files the pattern matches now (the probe has checked that there are some). */
  private List<String> inputFiles() {
    List<String> files = new ArrayList<>();
    try {
      for (MatchResult.Metadata m : BeamFiles.match(settings.input())) {
        files.add(m.resourceId().toString());
      }
    } catch (IOException e) {
      // The probe read them; nothing to compare with here.
    }
    return files;
  }

  /** A folder spec as users write it: without the trailing separator. */
  private static String shown(String folder) {
    return folder.length() > 1 && folder.endsWith("/") && !folder.endsWith("//")
        ? folder.substring(0, folder.length() - 1) : folder;
  }

  /** Runs {@code job} to the end ({@link #run(Job, OutputTarget, ExtraFiles)}) with no extra files. */
  public Outcome run(Job job, OutputTarget target) throws Exception {
    return run(job, target, staged -> {});
  }

  /**
   * Runs {@code job} to the end, replaces the output's files with what it wrote, and prints its
   * summary. The pipeline writes shard files into {@code target}'s temporary folder; once it is
   * done they are assembled into the staged output files, {@code extras} adds its files, and the
   * staged files replace the output's ({@link ReplaceOutput}). A failed job (or an interrupted
   * one) leaves the previous output as it was. The temporary folder is removed in every case.
   *
   * @return whether the failures stayed within the limit; the output is replaced either way
   * @throws UsageError for a job that cannot be built from the user's input
   * @throws RuntimeException when the job fails
   */
  public Outcome run(Job job, OutputTarget target, ExtraFiles extras) throws Exception {
    try {
      String jobId = UUID.randomUUID().toString();
      Built built = build(job, target, jobId);
      return runAndReport(built.pipeline(), job, target, jobId, built.written(), extras);
    } finally {
      release(target);
    }
  }

  /**
   * The pipeline {@link #run} runs for {@code job}, not run: what a tool inspects or translates
   * without running the job (e.g. a Dataflow template in a test). Its options are new ones from the
   * settings, so a caller may change them before {@code run()}; the job's counters are named after
   * {@code jobId}.
   *
   * @throws UsageError for a job that cannot be built from the user's input
   */
  public Pipeline pipeline(Job job, OutputTarget target, String jobId) {
    return build(job, target, jobId).pipeline();
  }

  /** A built pipeline and the schema of the output files it writes. */
  private record Built(Pipeline pipeline, Schema written) {}

  private Built build(Job job, OutputTarget target, String jobId) {
    Pipeline p = Pipeline.create(settings.pipelineOptions());
    PCollectionTuple read = p.apply("Read", ReadRecords.of(job.input(), job.layout())
        .withBlockRecords(settings.blockRecords()).withChunkRecords(settings.chunkRecords()));
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
    // Read failures and the model's are written apart: joining them would join two branches of
    // the reading, which Flink's batch translation makes wait for the whole input.
    read.get(ReadRecords.FAILURES)
        .apply("CountReadFailed", ParDo.of(JobCounters.<Row>counting(jobId, JobCounters.READ_FAILED)))
        .setRowSchema(FailureRecords.SCHEMA)
        .apply("CountReadFailedTypes", ParDo.of(JobCounters.countingFailures(jobId, FailureRecords.ERROR_TYPE)))
        .setRowSchema(FailureRecords.SCHEMA)
        .apply("WriteReadFailures", new WriteFailures(target, "read"));
    model.failures()
        .apply("CountFailed", ParDo.of(JobCounters.countingFailures(jobId, FailureRecords.ERROR_TYPE)))
        .setRowSchema(FailureRecords.SCHEMA)
        .apply("WriteFailures", new WriteFailures(target));
    return new Built(p, written);
  }

  /**
   * Replaces {@code target}'s files with the {@code staged} ones ({@link ReplaceOutput}), which a
   * SIGINT or SIGTERM meanwhile lets finish before it removes the temporary folder.
   */
  public void replace(OutputTarget staged, OutputTarget target) throws IOException {
    synchronized (replacing) {
      ReplaceOutput.replace(staged, target);
    }
  }

  /**
   * Removes the temporary folder {@link #prepareOutput} made, and its shutdown hook: the last step
   * of a job that {@link #run} did not run (whatever became of it).
   */
  public void release(OutputTarget target) {
    deleteTemp(target);
    Thread hook = cleanup;
    cleanup = null;
    if (hook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // The JVM is shutting down: the hook runs (or ran) anyway.
      }
    }
  }

  private void deleteTemp(OutputTarget target) {
    try {
      TempFolder.delete(target);
    } catch (IOException e) {
      err.println("dspex: warning: could not remove the temporary folder " + target.temp() + ": "
          + BeamFiles.describe(e));
    }
  }

  /**
   * Runs {@code p} to its end, as {@link #run} runs a job's pipeline but without progress or
   * summary: once it ended, done or failed, the runner does no more work for it here.
   */
  public PipelineResult runToEnd(Pipeline p) throws Exception {
    JobThreads threads = new JobThreads(UUID.randomUUID().toString());
    return toEnd(threads.run(p), threads);
  }

  /** Waits for the job {@code started} to end and for its runner's bundles in flight. */
  private PipelineResult toEnd(CompletableFuture<PipelineResult> started, JobThreads threads) throws Exception {
    try {
      PipelineResult result = started.get();
      result.waitUntilFinish();
      return result;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
    } finally {
      awaitInFlight(threads);
    }
  }

  /** Waits for the runner's bundles still in flight once the job ended ({@link JobThreads}). */
  private void awaitInFlight(JobThreads threads) throws InterruptedException {
    if (!threads.awaitInFlight(JobThreads.IN_FLIGHT_WAIT)) {
      err.println("dspex: warning: the runner still worked for the job " + JobThreads.IN_FLIGHT_WAIT.toSeconds()
          + " s after it ended; files it writes now may leave a temporary folder next to the output");
    }
  }

  private Outcome runAndReport(Pipeline p, Job job, OutputTarget target, String jobId, Schema written,
      ExtraFiles extras) throws Exception {
    long start = System.nanoTime();
    // Some runners return from run() at once and report live metrics (the DirectRunner without
    // blockOnRun, Dataflow), others block until the job ends (Flink): run() gets a thread of its
    // own, so one path serves both, and progress reads whatever counts exist meanwhile.
    JobThreads threads = new JobThreads(jobId);
    CompletableFuture<PipelineResult> started = threads.run(p);
    ProgressReporter progress = new ProgressReporter(ProgressSource.of(started, jobId), job.input().total(),
        terminal, err, start).start();
    PipelineResult result;
    try {
      result = toEnd(started, threads);
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
    Snapshot last = ProgressSource.last(result, jobId);
    FailureTally tally = FailureTally.of(result, jobId, FirstFailures.read(ShardFiles.list(target.failureShards())));
    OutputTarget staged = OutputAssembly.assemble(target, written);
    extras.write(staged);
    replace(staged, target);
    double seconds = (System.nanoTime() - start) / 1e9;
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
