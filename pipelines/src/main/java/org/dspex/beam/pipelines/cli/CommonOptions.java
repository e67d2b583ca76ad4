package org.dspex.beam.pipelines.cli;

import java.util.Locale;
import org.dspex.beam.pipelines.UsageError;
import org.dspex.beam.transforms.DSPexTransform;
import org.dspex.beam.pipelines.JobSettings;
import picocli.CommandLine.Option;

/** The options every subcommand takes (a picocli mixin); {@link #settings()} checks them. */
public final class CommonOptions {
  @Option(names = {"-i", "--input"}, required = true, paramLabel = "FILE|GLOB",
      description = "Input file or glob: JSONL, CSV (header row) or Parquet, by extension; a failures"
          + " file (<output>.failures.jsonl) re-runs just its records.")
  String input;

  @Option(names = "--input-format", paramLabel = "jsonl|csv|parquet",
      description = "Input format when the extension does not say.")
  String inputFormat;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
      description = "Output: .parquet or .pq for Parquet, anything else JSONL. Failures go to"
          + " <output>.failures.jsonl.")
  String output;

  @Option(names = "--overwrite", description = "Replace an existing output and failures file.")
  boolean overwrite;

  @Option(names = "--shards", paramLabel = "N", defaultValue = "0",
      description = "Write a folder of N part files named like the output instead of one file.")
  int shards;

  @Option(names = "--runner", paramLabel = "DirectRunner|FlinkRunner", defaultValue = "DirectRunner",
      description = "Beam runner (default: ${DEFAULT-VALUE}).")
  String runner;

  @Option(names = "--flink-master", paramLabel = "HOST:PORT", defaultValue = "[local]",
      description = "Flink master for --runner FlinkRunner (default: ${DEFAULT-VALUE}, a cluster in this JVM).")
  String flinkMaster;

  @Option(names = "--parallelism", paramLabel = "N",
      description = "Runner parallelism (default: 1 on the DirectRunner, the runner's on Flink).")
  Integer parallelism;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
      description = "Python worker processes per JVM (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--batch-size", paramLabel = "N",
      description = "Elements per request to a worker (default: 64).")
  Integer batchSize;

  @Option(names = "--format", paramLabel = "json|msgpack|arrow|auto", defaultValue = "auto",
      description = "How batches travel to the workers (default: ${DEFAULT-VALUE}, chosen per batch).")
  String format;

  @Option(names = "--max-failure-rate", paramLabel = "RATE", defaultValue = "0.01",
      description = "Highest share of failed records for exit code 0; above it the command exits 3"
          + " (default: ${DEFAULT-VALUE}).")
  double maxFailureRate;

  @Option(names = {"-v", "--verbose"},
      description = "Log the runner and the workers, and print stack traces of errors.")
  boolean verbose;

  /** The options as checked, immutable settings. */
  public JobSettings settings() {
    String r = runner.toLowerCase(Locale.ROOT);
    JobSettings.Runner run;
    if (r.equals("directrunner") || r.equals("direct")) {
      run = JobSettings.Runner.DIRECT;
    } else if (r.equals("flinkrunner") || r.equals("flink")) {
      run = JobSettings.Runner.FLINK;
    } else {
      throw new UsageError("--runner must be DirectRunner or FlinkRunner, was '" + runner + "'");
    }
    String wireFormat = format.toLowerCase(Locale.ROOT);
    if (!DSPexTransform.recordFormatNames().contains(wireFormat)) {
      throw new UsageError("--format must be one of " + String.join(", ", DSPexTransform.recordFormatNames())
          + "; was '" + format + "'");
    }
    positive(shards >= 0, "--shards", shards);
    positive(workers > 0, "--workers", workers);
    positive(parallelism == null || parallelism > 0, "--parallelism", parallelism);
    positive(batchSize == null || batchSize > 0, "--batch-size", batchSize);
    if (!(maxFailureRate >= 0 && maxFailureRate <= 1)) {
      throw new UsageError("--max-failure-rate must be within [0, 1], was " + maxFailureRate);
    }
    return new JobSettings(input, inputFormat, output, overwrite, shards, run, flinkMaster,
        parallelism, workers, batchSize, wireFormat, maxFailureRate, verbose);
  }

  private static void positive(boolean ok, String option, Object value) {
    if (!ok) {
      throw new UsageError(option + " must be positive, was " + value);
    }
  }
}
