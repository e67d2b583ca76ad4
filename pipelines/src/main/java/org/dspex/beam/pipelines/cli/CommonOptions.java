package org.dspex.beam.pipelines.cli;

import org.dspex.beam.pipelines.JobSettings;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options every record-by-record subcommand ({@code embed}, {@code predict}, {@code trainset})
 * takes (a picocli mixin): the input, the output, the workers and batches, plus what every job
 * takes ({@link JobOptions}); {@link #settings()} checks them.
 */
public final class CommonOptions {
  /** The subcommands' help texts that have no annotation ({@code --}'s description). */
  static final String MESSAGES = "org.dspex.beam.pipelines.cli.Messages";

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

  @Option(names = "--shards", paramLabel = "N", defaultValue = "0",
      description = "Write a folder of N part files named like the output instead of one file.")
  int shards;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
      description = "Python worker processes per JVM (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--batch-size", paramLabel = "N",
      description = "Elements per request to a worker (default: 64).")
  Integer batchSize;

  @Mixin JobOptions job;

  /** The options as checked, immutable settings. */
  public JobSettings settings() {
    JobOptions.positive(shards >= 0, "--shards", shards);
    JobOptions.positive(workers > 0, "--workers", workers);
    JobOptions.positive(batchSize == null || batchSize > 0, "--batch-size", batchSize);
    return job.settings(input, inputFormat, output, shards, workers, batchSize);
  }
}
