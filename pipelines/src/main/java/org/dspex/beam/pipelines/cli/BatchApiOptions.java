package org.dspex.beam.pipelines.cli;

import java.io.File;
import java.time.Duration;
import org.dspex.beam.pipelines.JobSettings;
import org.dspex.beam.pipelines.UsageError;
import org.dspex.beam.transforms.BatchApi;
import org.dspex.beam.transforms.DSPexPredict;
import picocli.CommandLine.Option;

/**
 * {@code dspex predict --batch-api}: the LM calls through the provider's Batch API (a picocli
 * mixin), {@code --batch-poll-interval}, {@code --batch-timeout}; {@code --batch-size} is then the
 * requests in one batch. The batches are recorded in {@code <output>.batches.json}.
 */
public final class BatchApiOptions {
  /** What the batch state file adds to the output's name. */
  public static final String STATE_SUFFIX = ".batches.json";

  @Option(names = "--batch-api",
      description = "Send the LM calls through the provider's Batch API (OpenAI's, or one of its shape at"
          + " --api-base): half the price, answered within 24 h instead of seconds. Each --batch-size"
          + " records (default here: 1000) are one batch; records DSPy's cache answers are not sent. The"
          + " batches are recorded in <output>.batches.json, so a re-run with the same --output picks up"
          + " the batches of a killed run instead of submitting them again.")
  boolean enabled;

  @Option(names = "--batch-poll-interval", paramLabel = "DURATION",
      description = "With --batch-api: between two status reads of a batch, e.g. 30s, 5m (default: 30s).")
  String pollInterval;

  @Option(names = "--batch-timeout", paramLabel = "DURATION",
      description = "With --batch-api: the longest a worker waits for its batches; the records still waiting"
          + " then fail as BatchTimeout, and a re-run picks their batches up (default: 24h).")
  String timeout;

  /** {@code settings} with batch mode's default batch size when {@code --batch-size} is not given. */
  JobSettings adjust(JobSettings settings) {
    if (!enabled) {
      if (pollInterval != null || timeout != null) {
        throw new UsageError((pollInterval != null ? "--batch-poll-interval" : "--batch-timeout")
            + " applies to --batch-api");
      }
      return settings;
    }
    return settings.batchSize() != null ? settings : settings.withBatchSize(BatchApi.DEFAULT_MAX_REQUESTS_PER_BATCH);
  }

  /** The state file of {@code output}: {@code <output>.batches.json}, a local path. */
  static String stateFile(String output) {
    if (output.contains("://")) {
      throw new UsageError("--batch-api records its batches next to the output, so it needs a local --output;"
          + " was '" + output + "'");
    }
    return new File(output).getAbsolutePath() + STATE_SUFFIX;
  }

  /** {@code p} in batch mode when {@code --batch-api} is given, else {@code p}. */
  DSPexPredict apply(DSPexPredict p, JobSettings settings) {
    if (!enabled) {
      return p;
    }
    try {
      BatchApi b = BatchApi.openAi().withStateFile(stateFile(settings.output()));
      Duration poll = JobOptions.duration("--batch-poll-interval", pollInterval);
      if (poll != null) {
        JobOptions.positive(!poll.isZero(), "--batch-poll-interval", pollInterval);
        b = b.withPollInterval(poll);
      }
      Duration wait = JobOptions.duration("--batch-timeout", timeout);
      if (wait != null) {
        JobOptions.positive(!wait.isZero(), "--batch-timeout", timeout);
        b = b.withTimeout(wait);
      }
      if (settings.batchSize() != null) {
        if (settings.batchSize() > BatchApi.OPENAI_MAX_REQUESTS) {
          throw new UsageError("--batch-size with --batch-api is the requests in one batch: at most "
              + BatchApi.OPENAI_MAX_REQUESTS + ", was " + settings.batchSize());
        }
        b = b.withMaxRequestsPerBatch(settings.batchSize());
      }
      return p.withBatchApi(b);
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage(), e);
    }
  }
}
