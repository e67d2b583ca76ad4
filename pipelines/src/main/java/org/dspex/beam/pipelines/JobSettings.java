package org.dspex.beam.pipelines;

import java.time.Duration;
import org.apache.beam.sdk.options.PipelineOptions;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.transforms.DSPexTransform;
import org.dspex.beam.transforms.config.ExecutionSettings;

/**
 * The settings every {@code dspex} subcommand shares, checked: input, output, runner and worker
 * settings, the failure limit. Immutable.
 *
 * @param shards 0 for one output file, else the number of part files
 * @param runner the Beam runner and its options
 * @param batchSize null for the transforms' default
 * @param maxLineBytes the longest JSONL or CSV line read; longer ones fail as {@code LineTooLong}
 * @param format the body format's wire name ({@link DSPexTransform#withFormat})
 * @param requestTimeout null for the transforms' default ({@link DSPexTransform#withRequestTimeout})
 * @param stallTimeout null for the transforms' default, zero for none ({@link DSPexTransform#withStallTimeout})
 */
public record JobSettings(
    String input,
    @Nullable String inputFormat,
    String output,
    boolean overwrite,
    int shards,
    RunnerSettings runner,
    int workers,
    @Nullable Integer batchSize,
    String format,
    double maxFailureRate,
    boolean verbose,
    int maxLineBytes,
    @Nullable Duration requestTimeout,
    @Nullable Duration stallTimeout) {

  /** System property naming the workers' Python interpreter (the {@code ./dspex} launcher sets it). */
  public static final String PYTHON_PROPERTY = "dspex.python";

  /** Whether the job's workers run on this machine ({@link RunnerSettings#runsHere()}). */
  public boolean runsHere() {
    return runner.runsHere();
  }

  /**
   * Records per bundle after reading: two model batches, so that bundles (whose outputs a runner
   * commits at their end) finish one after another and progress moves steadily.
   */
  public int chunkSize() {
    return 2 * (batchSize == null ? ExecutionSettings.DEFAULT_MAX_BATCH_SIZE : batchSize);
  }

  /** These settings with {@code n} records per model batch. */
  public JobSettings withBatchSize(int n) {
    return new JobSettings(input, inputFormat, output, overwrite, shards, runner, workers, n, format,
        maxFailureRate, verbose, maxLineBytes, requestTimeout, stallTimeout);
  }

  /**
   * {@code t} with this machine's interpreter, the {@value #PYTHON_PROPERTY} property the launcher
   * sets (unchanged without it): for workers that run where this machine's files are, and for the
   * worker the command starts itself, before the job, to learn a program's fields.
   */
  public <T extends DSPexTransform<T>> T withLocalPython(T t) {
    String python = System.getProperty(PYTHON_PROPERTY);
    return python == null || python.isEmpty() ? t : t.withPython(python);
  }

  /** New Beam pipeline options for the job ({@link RunnerSettings#pipelineOptions()}). */
  public PipelineOptions pipelineOptions() {
    return runner.pipelineOptions();
  }

  /**
   * {@code t} with the worker settings applied: interpreter, workers, batch size, wire format,
   * request and stall timeouts. The interpreter is this machine's ({@link #withLocalPython}) only
   * where the workers see this machine's files; on Dataflow the workers find theirs on their own
   * machines ({@code $DSPEX_PYTHON}, which the worker image sets, else the managed venv).
   */
  public <T extends DSPexTransform<T>> T configure(T t) {
    T c = runner.workersSeeLocalFiles() ? withLocalPython(t) : t;
    c = c.withWorkers(workers).withFormat(format);
    c = requestTimeout == null ? c : c.withRequestTimeout(requestTimeout);
    c = stallTimeout == null ? c : c.withStallTimeout(stallTimeout);
    return batchSize == null ? c : c.withMaxBatchSize(batchSize);
  }
}
