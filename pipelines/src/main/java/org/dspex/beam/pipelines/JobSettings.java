package org.dspex.beam.pipelines;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.transforms.DSPexTransform;
import org.dspex.beam.transforms.config.ExecutionSettings;

/**
 * The settings every {@code dspex} subcommand shares, checked: input, output, runner and worker
 * settings, the failure limit. Immutable.
 *
 * @param shards 0 for one output file, else the number of part files
 * @param parallelism null for the default: 1 on the DirectRunner ({@link #DIRECT_DEFAULT_PARALLELISM}),
 *     the runner's on Flink
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
    Runner runner,
    String flinkMaster,
    @Nullable Integer parallelism,
    int workers,
    @Nullable Integer batchSize,
    String format,
    double maxFailureRate,
    boolean verbose,
    int maxLineBytes,
    @Nullable Duration requestTimeout,
    @Nullable Duration stallTimeout) {

  /**
   * The DirectRunner's thread count unless {@code --parallelism} says otherwise. The runner's
   * monitor task resubmits itself without pause while a bundle is in progress (Beam 2.62,
   * apache/beam#18070), so a pool thread that is not inside a bundle spins a core the model
   * needs; the transforms keep every worker busy from one thread (workers + 1 batches in flight).
   * Measured on the 5,852-verse embed: the same records/s as the default 3 threads, 0.8 to 1.1 GB of
   * memory instead of 2.6 to 3.1 GB.
   */
  public static final int DIRECT_DEFAULT_PARALLELISM = 1;

  /** System property naming the workers' Python interpreter (the {@code ./dspex} launcher sets it). */
  public static final String PYTHON_PROPERTY = "dspex.python";

  /** Whether the job's workers run on this machine (DirectRunner, Flink {@code [local]}). */
  public boolean runsHere() {
    return runner == Runner.DIRECT || "[local]".equals(flinkMaster);
  }

  /** The runners the command drives. */
  public enum Runner {
    /** Beam's DirectRunner, in this JVM. */
    DIRECT,
    /** Beam's FlinkRunner: a local cluster in this JVM ({@code [local]}) or a remote master. */
    FLINK
  }

  /**
   * Records per bundle after reading: two model batches, so that bundles (whose outputs a runner
   * commits at their end) finish one after another and progress moves steadily.
   */
  public int chunkSize() {
    return 2 * (batchSize == null ? ExecutionSettings.DEFAULT_MAX_BATCH_SIZE : batchSize);
  }

  /** The Beam pipeline options for these settings. */
  public PipelineOptions pipelineOptions() {
    List<String> args = new ArrayList<>();
    if (runner == Runner.DIRECT) {
      args.add("--runner=DirectRunner");
      // The command polls metrics while the job runs; immutability checks are for tests.
      args.add("--blockOnRun=false");
      args.add("--enforceImmutability=false");
      args.add("--enforceEncodability=false");
      args.add("--targetParallelism=" + (parallelism == null ? DIRECT_DEFAULT_PARALLELISM : parallelism));
    } else {
      args.add("--runner=FlinkRunner");
      args.add("--flinkMaster=" + flinkMaster);
      if (parallelism != null) {
        args.add("--parallelism=" + parallelism);
      }
    }
    return PipelineOptionsFactory.fromArgs(args.toArray(String[]::new)).create();
  }

  /**
   * {@code t} with the worker settings applied: interpreter, workers, batch size, wire format,
   * request and stall timeouts.
   */
  public <T extends DSPexTransform<T>> T configure(T t) {
    String python = System.getProperty(PYTHON_PROPERTY);
    T c = python == null || python.isEmpty() ? t : t.withPython(python);
    c = c.withWorkers(workers).withFormat(format);
    c = requestTimeout == null ? c : c.withRequestTimeout(requestTimeout);
    c = stallTimeout == null ? c : c.withStallTimeout(stallTimeout);
    return batchSize == null ? c : c.withMaxBatchSize(batchSize);
  }
}
