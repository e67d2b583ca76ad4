package org.dspex.beam.pipelines.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.pipelines.JobSettings;
import org.dspex.beam.pipelines.RunnerSettings;
import org.dspex.beam.pipelines.UsageError;
import org.dspex.beam.pipelines.io.ReadRecords;
import org.dspex.beam.transforms.DSPexTransform;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * What every job of the command takes, whatever its input and output look like (a picocli mixin
 * of {@link CommonOptions} and {@code optimize}): the runner and its options after {@code --},
 * how records travel to the workers and how long a worker may take, the failure limit, overwrite,
 * the longest line read, verbosity. {@link #settings} checks them.
 */
public final class JobOptions {
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  @Option(names = "--max-line-bytes", paramLabel = "N", defaultValue = "67108864",
      description = "Longest line of a JSONL or CSV input, in bytes; a longer line fails unread as"
          + " LineTooLong (default: ${DEFAULT-VALUE}, 64 MiB).")
  int maxLineBytes;

  @Option(names = "--block-records", paramLabel = "N",
      description = "Records per block of an input file; blocks of one file are read in parallel (JSONL"
          + " and CSV by byte ranges, Parquet by row groups); 0: each file is one block (default: 0 on the"
          + " DirectRunner, " + ReadRecords.DEFAULT_BLOCK_RECORDS + " on other runners).")
  Integer blockRecords;

  @Option(names = "--overwrite", description = "Replace an existing output and failures file.")
  boolean overwrite;

  @Option(names = "--runner", paramLabel = "RUNNER", defaultValue = RunnerSettings.DEFAULT_RUNNER,
      description = "Beam runner: DirectRunner, FlinkRunner, DataflowRunner (./dspex runs the command's"
          + " Dataflow build for it), or any runner on the classpath, by its name or class (default:"
          + " ${DEFAULT-VALUE}).")
  String runner;

  @Option(names = "--flink-master", paramLabel = "HOST:PORT", defaultValue = RunnerSettings.LOCAL_FLINK,
      description = "Flink master for --runner FlinkRunner (default: ${DEFAULT-VALUE}, a cluster in this JVM).")
  String flinkMaster;

  @Option(names = "--parallelism", paramLabel = "N",
      description = "Runner threads (DirectRunner, default 1) or task slots (FlinkRunner, default Flink's).")
  Integer parallelism;

  @Parameters(paramLabel = "BEAM_OPTION", arity = "0..*",
      description = "After --: Beam pipeline options, each --name=value, for Beam's"
          + " PipelineOptionsFactory (validated), e.g. -- --jobName=nightly, or -- --project=P"
          + " --region=R --tempLocation=gs://B/tmp --sdkContainerImage=IMAGE for the DataflowRunner."
          + " The options above go before --.")
  List<String> beamOptions = new ArrayList<>();

  @Option(names = "--format", paramLabel = "json|msgpack|arrow|auto", defaultValue = "auto",
      description = "How batches travel to the workers (default: ${DEFAULT-VALUE}, chosen per batch).")
  String format;

  @Option(names = "--request-timeout", paramLabel = "DURATION",
      description = "Longest one request to a worker (or the gap between two of its streamed results)"
          + " may take before the worker is killed and the unanswered records are retried, e.g. 90s, 5m"
          + " (default: 5m).")
  String requestTimeout;

  @Option(names = "--stall-timeout", paramLabel = "DURATION",
      description = "Longest a busy worker may leave a health ping unanswered before it counts as stalled"
          + " (stopped, deadlocked), is replaced and its unanswered records are retried; a slow but live"
          + " LM call is not cut short (default: 30s; 0: never).")
  String stallTimeout;

  @Option(names = "--max-failure-rate", paramLabel = "RATE", defaultValue = "0.01",
      description = "Highest share of failed records for exit code 0; above it the command exits 3"
          + " (default: ${DEFAULT-VALUE}).")
  double maxFailureRate;

  @Option(names = {"-v", "--verbose"},
      description = "Log the runner and the workers, and print stack traces of errors.")
  boolean verbose;

  /**
   * These options, checked, with the job's input and output: immutable settings. {@code workers}
   * and {@code batchSize} are the caller's, checked by it.
   */
  JobSettings settings(String input, @Nullable String inputFormat, String output, int shards, int workers,
      @Nullable Integer batchSize) {
    String wireFormat = format.toLowerCase(Locale.ROOT);
    if (!DSPexTransform.recordFormatNames().contains(wireFormat)) {
      throw new UsageError("--format must be one of " + String.join(", ", DSPexTransform.recordFormatNames())
          + "; was '" + format + "'");
    }
    positive(maxLineBytes > 0, "--max-line-bytes", maxLineBytes);
    positive(parallelism == null || parallelism > 0, "--parallelism", parallelism);
    if (blockRecords != null && blockRecords < 0) {
      throw new UsageError("--block-records must be 0 (whole files) or positive, was " + blockRecords);
    }
    if (!(maxFailureRate >= 0 && maxFailureRate <= 1)) {
      throw new UsageError("--max-failure-rate must be within [0, 1], was " + maxFailureRate);
    }
    Duration request = duration("--request-timeout", requestTimeout);
    positive(request == null || !request.isZero(), "--request-timeout", requestTimeout);
    RunnerSettings run = RunnerSettings.of(runner, flinkMaster, parallelism, beamOptions);
    return new JobSettings(input, inputFormat, output, overwrite, shards, run, workers, batchSize,
        wireFormat, maxFailureRate, verbose, maxLineBytes, request, duration("--stall-timeout", stallTimeout),
        blockRecords);
  }

  /** {@code 90s}, {@code 5m}, {@code 1h}, {@code 500ms} or {@code 0}; null when not given. */
  static Duration duration(String option, String text) {
    if (text == null) {
      return null;
    }
    if (text.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = DURATION.matcher(text);
    if (!m.matches()) {
      throw new UsageError(option + " takes a whole number and a unit, ms, s, m or h (e.g. 90s, 5m), was '"
          + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    switch (m.group(2)) {
      case "ms":
        return Duration.ofMillis(n);
      case "s":
        return Duration.ofSeconds(n);
      case "m":
        return Duration.ofMinutes(n);
      default:
        return Duration.ofHours(n);
    }
  }

  /** {@link UsageError} naming {@code option} unless {@code ok}. */
  static void positive(boolean ok, String option, Object value) {
    if (!ok) {
      throw new UsageError(option + " must be positive, was " + value);
    }
  }
}
