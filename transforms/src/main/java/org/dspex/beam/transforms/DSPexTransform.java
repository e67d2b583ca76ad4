package org.dspex.beam.transforms;

import static org.dspex.beam.transforms.config.Checks.check;
import static org.dspex.beam.transforms.config.Checks.nonEmpty;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.errorhandling.BadRecord;
import org.apache.beam.sdk.transforms.errorhandling.ErrorHandler;
import org.apache.beam.sdk.values.PCollection;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.environment.PythonEnvironment;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.transforms.config.ExecutionSettings;

/**
 * What {@link DSPexPredict} and {@link DSPexEmbed} share: how their Python workers run (interpreter,
 * path, count, timeouts), how elements are batched and retried, and where failures go. Every {@code
 * with*} checks its argument at once and returns a changed copy of the transform ({@code T}).
 *
 * <pre>{@code
 * DSPexEmbed embed = DSPexEmbed.of(model)
 *     .withWorkers(2)                          // shared setting, still a DSPexEmbed
 *     .withMaxBatchSize(256)
 *     .withRequestTimeout(Duration.ofMinutes(2));
 * }</pre>
 *
 * @param <T> the concrete transform, returned by every {@code with*}
 */
public abstract class DSPexTransform<T extends DSPexTransform<T>> extends PTransform<PCollection<?>, DSPexResult> {
  private static final long serialVersionUID = 1L;

  DSPexTransform() {}

  abstract ExecutionSettings execution();

  abstract @Nullable String apiKeyEnv();

  abstract @Nullable ErrorHandler<BadRecord, ?> badRecordErrorHandler();

  /** The {@code setup} arguments of the model (docs/protocol.md §9.9); never a secret. */
  abstract Map<String, Object> setupArgs();

  abstract T withExecution(ExecutionSettings settings);

  abstract T withBadRecordErrorHandlerUnchecked(ErrorHandler<BadRecord, ?> handler);

  abstract T withApiKeyEnvUnchecked(String variableName);

  /**
   * The worker configuration this transform's DoFns acquire their JVM-wide pool with. Holding a pool
   * of it ({@link org.dspex.beam.connector.worker.WorkerPools#acquire}{@code (t.workerConfig())}, released after the pipeline) keeps workers
   * and their loaded model warm across several pipelines run by one JVM.
   */
  public WorkerConfig workerConfig() {
    WorkerConfig c = execution().workerConfig(setupArgs(), apiKeyEnv());
    return execution().environmentChosen() ? c : c.withEnvironment(c.environment().withExtra(pythonExtra()));
  }

  /** The managed venv's packages this transform's workers need, unless {@link #withEnvironment} chose. */
  PythonEnvironment.Extra pythonExtra() {
    return PythonEnvironment.Extra.PREDICT;
  }

  /** Sends failures to {@code handler} instead of {@link DSPexResult#failures()} (default none). */
  public T withBadRecordErrorHandler(ErrorHandler<BadRecord, ?> handler) {
    check(handler != null, "withBadRecordErrorHandler: must not be null");
    return withBadRecordErrorHandlerUnchecked(handler);
  }

  /**
   * The NAME of the environment variable holding the API key on the worker machines (default none:
   * the provider's usual variable). The worker reads the value from its environment; it is never
   * carried in the pipeline and is masked in every log line, failure and message.
   */
  public T withApiKeyEnv(String variableName) {
    nonEmpty(variableName, "withApiKeyEnv");
    check(variableName.matches("[A-Za-z_][A-Za-z0-9_]*"),
        "withApiKeyEnv: takes the NAME of an environment variable (e.g. OPENAI_API_KEY), was '%s'",
        variableName.length() > 8 ? variableName.substring(0, 4) + "..." : variableName);
    return withApiKeyEnvUnchecked(variableName);
  }

  /**
   * The Python interpreter of the workers (default: {@code $DSPEX_PYTHON}, else the managed venv of
   * {@link #withEnvironment}).
   */
  public T withPython(String interpreter) {
    return withExecution(execution().withPython(interpreter));
  }

  /**
   * Where the workers' interpreter comes from when neither {@link #withPython} nor {@code
   * $DSPEX_PYTHON} names one (default: a venv the connector builds on first use on each machine, in a
   * per-user cache, with the packages this transform needs: the {@code embed} extra for a local
   * {@link DSPexEmbed}, else {@code predict}; see {@link PythonEnvironment}). Settings such as a wheel
   * folder for offline machines go here; the extra is then the one {@code environment} names.
   */
  public T withEnvironment(PythonEnvironment environment) {
    return withExecution(execution().withEnvironment(environment));
  }

  /** {@code PYTHONPATH} entries for the workers, e.g. where a program's package lives (default none). */
  public T withPythonPath(String... entries) {
    return withExecution(execution().withPythonPath(entries));
  }

  /** Python workers per JVM (default {@value ExecutionSettings#DEFAULT_WORKERS}). */
  public T withWorkers(int n) {
    return withExecution(execution().withWorkers(n));
  }

  /**
   * Elements per request (default {@value ExecutionSettings#DEFAULT_MAX_BATCH_SIZE}; DSPexEmbed:
   * {@value DSPexEmbed#DEFAULT_MAX_BATCH_SIZE}).
   */
  public T withMaxBatchSize(int n) {
    return withExecution(execution().withMaxBatchSize(n));
  }

  /** Bytes of the elements of one request, as sent (default 8 MiB). */
  public T withMaxBatchBytes(long n) {
    return withExecution(execution().withMaxBatchBytes(n));
  }

  /** An element larger than this goes to the failures unsent, naming this setting (default 1 MiB). */
  public T withMaxElementBytes(long n) {
    return withExecution(execution().withMaxElementBytes(n));
  }

  /** Sends of an element before a worker fault fails it (default {@value ExecutionSettings#DEFAULT_MAX_ATTEMPTS}). */
  public T withMaxAttempts(int n) {
    return withExecution(execution().withMaxAttempts(n));
  }

  /**
   * The names {@link #withFormat} takes for batches of records, {@code "auto"} first: the formats
   * that can carry a list of records (NumPy carries only numeric arrays).
   */
  public static List<String> recordFormatNames() {
    List<String> names = new ArrayList<>();
    names.add(FormatChoice.AUTO.wireName());
    for (ContentFormat f : ContentFormat.values()) {
      if (f.carriesRecords()) {
        names.add(f.wireName());
      }
    }
    return names;
  }

  /**
   * The body format of requests by its wire name: {@code "auto"} (the default: chosen per batch),
   * or a content format forced, {@code "json"}, {@code "msgpack"}, {@code "arrow"} or {@code
   * "numpy"} ({@link ContentFormat}); {@code "ref"} is refused.
   */
  public T withFormat(String format) {
    nonEmpty(format, "withFormat");
    FormatChoice p;
    try {
      p = FormatChoice.fromWireName(format);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("withFormat: " + e.getMessage(), e);
    }
    return withExecution(execution().withFormat(p));
  }

  /** One request, or the gap between two streamed results (default 5 min); a late worker is killed. */
  public T withRequestTimeout(Duration d) {
    return withExecution(execution().withRequestTimeout(d));
  }

  /**
   * How long a worker with requests in flight may leave a health ping unanswered before it counts
   * as stalled (stopped, deadlocked) and is replaced, its unreported elements sent again (default
   * 30 s; {@link Duration#ZERO}: never checked). A worker answers pings even while its LM calls
   * run, so a slow call is not cut short: {@link #withRequestTimeout} alone bounds that.
   */
  public T withStallTimeout(Duration d) {
    return withExecution(execution().withStallTimeout(d));
  }

  /** Worker process start to ready (default 60 s). */
  public T withStartTimeout(Duration d) {
    return withExecution(execution().withStartTimeout(d));
  }

  /** Loading the program or model on a worker (default 10 min). */
  public T withSetupTimeout(Duration d) {
    return withExecution(execution().withSetupTimeout(d));
  }

  /** Delay before a dead worker is restarted (default 1 s, doubling while it fails to start). */
  public T withRestartBackoff(Duration d) {
    return withExecution(execution().withRestartBackoff(d));
  }

  /**
   * Unbounded input only: the longest an element waits for its batch to fill before the batch is
   * sent anyway (default 5 s). Bounded input is batched per bundle and never waits.
   */
  public T withMaxBufferingDuration(Duration d) {
    return withExecution(execution().withMaxBufferingDuration(d));
  }
}
