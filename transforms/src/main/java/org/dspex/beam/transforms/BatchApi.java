package org.dspex.beam.transforms;

import static org.dspex.beam.transforms.config.Checks.check;
import static org.dspex.beam.transforms.config.Checks.nonEmpty;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How {@link DSPexPredict#withBatchApi} sends its LM calls through a provider's Batch API instead
 * of one HTTP call each: at half the price, answered within the provider's completion window
 * (24 hours) instead of seconds. Immutable; every {@code with*} checks its argument and returns
 * a changed copy.
 *
 * <p>The worker renders every element's prompt exactly as DSPy's adapter renders it for a live
 * call, writes the requests (each distinct one once) as a Batch API input file, uploads it,
 * creates the batch, polls it every {@link #withPollInterval poll interval}, downloads the
 * results and parses each answer with the same adapter. Elements DSPy's LM cache already
 * answers are answered from it and not submitted; batch answers are written to the cache, so a
 * later live run finds them. A program that makes several LM calls one after another (two
 * predictors, or the JSON retry after an unparseable answer) takes one round of batches per
 * call, up to {@link #withMaxRounds}.
 *
 * <pre>{@code
 * DSPexResult result = questions.apply(
 *     DSPexPredict.of("question -> answer")
 *         .withModel("openai/gpt-4o-mini")
 *         .withApiKeyEnv("OPENAI_API_KEY")
 *         .withBatchApi(BatchApi.openAi()
 *             .withPollInterval(Duration.ofMinutes(1))
 *             .withStateFile("/data/answers.jsonl.batches.json")));  // a re-run picks its batches up
 *
 * // failures(): error_type BatchRequestFailed, BatchRequestExpired, BatchFailed, BatchTimeout,
 * // AdapterParseError, ... each with the batch's message
 * }</pre>
 *
 * <p>Each request to a worker becomes one batch (or several, past {@link #withMaxRequestsPerBatch}
 * or {@link #withMaxBatchBytes}), so in batch mode a request carries up to {@link
 * #withMaxRequestsPerBatch} elements instead of {@link DSPexPredict#withMaxBatchSize}'s, and a
 * worker waits for its batch for up to {@link #withTimeout} (the transform's request timeout is
 * raised to match). The batches in flight at once are the requests in flight: one per worker plus
 * one per DoFn instance, so {@link DSPexPredict#withWorkers} is also how many batches run together.
 */
@AutoValue
public abstract class BatchApi implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Between two status reads of a batch in progress. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(30);
  /** The longest a worker waits for a round's batches to end (the provider's window). */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(24);
  /** Requests in one batch, and elements in one request to a worker. */
  public static final int DEFAULT_MAX_REQUESTS_PER_BATCH = 1000;
  /** Bytes of one batch's input file (OpenAI takes up to 200 MB). */
  public static final long DEFAULT_MAX_BATCH_BYTES = 100_000_000L;
  /** LM calls one element may make one after another, each a round of batches. */
  public static final int DEFAULT_MAX_ROUNDS = 4;
  /** OpenAI's limit on the requests of one batch. */
  public static final int OPENAI_MAX_REQUESTS = 50_000;
  /** OpenAI's limit on the bytes of one batch's input file. */
  public static final long OPENAI_MAX_BYTES = 200_000_000L;

  abstract String provider();

  public abstract Duration pollInterval();

  public abstract Duration timeout();

  public abstract int maxRequestsPerBatch();

  public abstract long maxBatchBytes();

  public abstract int maxRounds();

  public abstract @Nullable String stateFile();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setProvider(String s);

    abstract Builder setPollInterval(Duration d);

    abstract Builder setTimeout(Duration d);

    abstract Builder setMaxRequestsPerBatch(int n);

    abstract Builder setMaxBatchBytes(long n);

    abstract Builder setMaxRounds(int n);

    abstract Builder setStateFile(@Nullable String s);

    abstract BatchApi build();
  }

  /**
   * OpenAI's Batch API ({@code /v1/files}, {@code /v1/batches}), or a server of the same shape at
   * the LM's {@link DSPexPredict#withApiBase api base}, with every default.
   */
  public static BatchApi openAi() {
    return new AutoValue_BatchApi.Builder().setProvider("openai").setPollInterval(DEFAULT_POLL_INTERVAL)
        .setTimeout(DEFAULT_TIMEOUT).setMaxRequestsPerBatch(DEFAULT_MAX_REQUESTS_PER_BATCH)
        .setMaxBatchBytes(DEFAULT_MAX_BATCH_BYTES).setMaxRounds(DEFAULT_MAX_ROUNDS).build();
  }

  private static Duration positive(Duration d, String method) {
    check(d != null && !d.isNegative() && !d.isZero(), "%s: must be positive, was %s", method, d);
    return d;
  }

  /** Between two status reads of a batch in progress (default 30 s). */
  public BatchApi withPollInterval(Duration d) {
    return toBuilder().setPollInterval(positive(d, "withPollInterval")).build();
  }

  /**
   * The longest a worker waits for one round's batches (default 24 h, OpenAI's completion window);
   * the elements still waiting then fail as {@code BatchTimeout}, and their batch, which keeps
   * running, is picked up by a re-run with the same {@link #withStateFile state file}.
   */
  public BatchApi withTimeout(Duration d) {
    return toBuilder().setTimeout(positive(d, "withTimeout")).build();
  }

  /** Requests in one batch, and elements in one request to a worker (default 1,000; at most 50,000). */
  public BatchApi withMaxRequestsPerBatch(int n) {
    check(n > 0 && n <= OPENAI_MAX_REQUESTS, "withMaxRequestsPerBatch: must be in 1..%s, was %s",
        OPENAI_MAX_REQUESTS, n);
    return toBuilder().setMaxRequestsPerBatch(n).build();
  }

  /** Bytes of one batch's input file (default 100 MB; at most 200 MB). */
  public BatchApi withMaxBatchBytes(long n) {
    check(n > 0 && n <= OPENAI_MAX_BYTES, "withMaxBatchBytes: must be in 1..%s, was %s", OPENAI_MAX_BYTES, n);
    return toBuilder().setMaxBatchBytes(n).build();
  }

  /**
   * LM calls one element may make one after another (default 4): a {@code Predict} makes one, the
   * JSON retry after an unparseable answer a second, each further predictor of a program one more.
   * An element needing more fails as {@code BatchRoundsExceeded}.
   */
  public BatchApi withMaxRounds(int n) {
    check(n > 0 && n <= 100, "withMaxRounds: must be in 1..100, was %s", n);
    return toBuilder().setMaxRounds(n).build();
  }

  /**
   * The file recording the batches the workers submitted (default none): a job killed while its
   * batches ran, run again with the same file, polls and downloads them instead of submitting the
   * same requests again. A local path (or one on a file system every worker machine mounts); its
   * folder must exist. {@code dspex predict --batch-api} uses {@code <output>.batches.json}.
   */
  public BatchApi withStateFile(String path) {
    return toBuilder().setStateFile(nonEmpty(path, "withStateFile")).build();
  }

  /**
   * The transform's request timeout in batch mode: a worker may stream nothing while it waits for
   * up to {@link #maxRounds} rounds of batches, each up to {@link #timeout}; {@code requestTimeout}
   * on top covers the rest (rendering, downloads).
   */
  Duration requestTimeout(Duration requestTimeout) {
    return timeout().multipliedBy(maxRounds()).plus(requestTimeout);
  }

  /** The {@code batch_api} map of a {@code setup} (docs/protocol.md §9.9.1). */
  Map<String, Object> setupMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("provider", provider());
    m.put("poll_interval_s", pollInterval().toMillis() / 1000.0);
    m.put("timeout_s", timeout().toMillis() / 1000.0);
    m.put("max_requests_per_batch", maxRequestsPerBatch());
    m.put("max_batch_bytes", maxBatchBytes());
    m.put("max_rounds", maxRounds());
    if (stateFile() != null) {
      m.put("state_file", stateFile());
    }
    return m;
  }
}
