package org.dspex.beam.pipelines;

import java.time.Duration;
import org.apache.beam.sdk.options.PipelineOptions;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.pipelines.io.ReadRecords;
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
 * @param readBlockRecords records per block of an input file, 0 for whole files, null for the
 *     runner's default ({@link #blockRecords()})
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
    @Nullable Duration stallTimeout,
    @Nullable Integer readBlockRecords) {

  /** System property naming the workers' Python interpreter (the {@code ./dspex} launcher sets it). */
  public static final String PYTHON_PROPERTY = "dspex.python";

  /** Whether the job's workers run on this machine ({@link RunnerSettings#runsHere()}). */
  public boolean runsHere() {
    return runner.runsHere();
  }

  /**
   * Records per block of an input file ({@link ReadRecords#withBlockRecords}): {@code
   * --block-records} when given, else the runner's default ({@link RunnerSettings#defaultBlockRecords()}).
   */
  public int blockRecords() {
    return readBlockRecords != null ? readBlockRecords : runner.defaultBlockRecords();
  }

  /**
   * Records per chunk the reading hands on ({@link ReadRecords#withChunkRecords}): a whole number
   * of model batches, at least two and at least {@link ReadRecords#DEFAULT_CHUNK_RECORDS}
   * records, so that on the DirectRunner, where each chunk is a bundle of the next steps, every
   * batch a worker gets is full and the reader's checkpoints stay few.
   */
  public int chunkRecords() {
    int batch = batchSize == null ? ExecutionSettings.DEFAULT_MAX_BATCH_SIZE : batchSize;
    return batch * Math.max(2, (ReadRecords.DEFAULT_CHUNK_RECORDS + batch - 1) / batch);
  }

  /** These settings with {@code n} records per model batch. */
  public JobSettings withBatchSize(int n) {
    return new JobSettings(input, inputFormat, output, overwrite, shards, runner, workers, n, format,
        maxFailureRate, verbose, maxLineBytes, requestTimeout, stallTimeout, readBlockRecords);
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
