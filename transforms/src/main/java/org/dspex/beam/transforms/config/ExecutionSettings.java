package org.dspex.beam.transforms.config;

import static org.dspex.beam.transforms.config.Checks.check;
import static org.dspex.beam.transforms.config.Checks.nonEmpty;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.worker.WorkerConfig;

/**
 * The settings {@code DSPexPredict} and {@code DSPexEmbed} share: workers, batching, timeouts,
 * retries and the interpreter. Immutable; the transforms' {@code with*} methods check their
 * arguments and change one setting here. Turned into a connector {@link WorkerConfig} on the
 * worker machine ({@link #workerConfig()}), since that is where the interpreter and environment
 * live.
 */
@AutoValue
public abstract class ExecutionSettings implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Python workers per JVM and transform configuration. */
  public static final int DEFAULT_WORKERS = 1;
  /** Elements per request to a worker. */
  public static final int DEFAULT_MAX_BATCH_SIZE = 64;
  /** Encoded bytes of the elements of one request (JSON size). */
  public static final long DEFAULT_MAX_BATCH_BYTES = 8L << 20;
  /** An element above this (JSON size) is not sent: it goes to the failures. 1 MiB. */
  public static final long DEFAULT_MAX_ELEMENT_BYTES = 1L << 20;
  /** Times an element is sent before a worker fault fails it. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;
  /** One request, or the gap between two events of a stream. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = WorkerConfig.DEFAULT_REQUEST_TIMEOUT;
  /** Process start to answered hello. */
  public static final Duration DEFAULT_START_TIMEOUT = WorkerConfig.DEFAULT_START_TIMEOUT;
  /** Loading the program or model on a worker. */
  public static final Duration DEFAULT_SETUP_TIMEOUT = WorkerConfig.DEFAULT_SETUP_TIMEOUT;
  /** Unbounded input: the longest an element waits for its batch to fill. */
  public static final Duration DEFAULT_MAX_BUFFERING_DURATION = Duration.ofSeconds(5);
  /** First delay before a dead worker is restarted (doubling while it keeps failing to start). */
  public static final Duration DEFAULT_RESTART_BACKOFF = WorkerConfig.DEFAULT_RESTART_BACKOFF_INITIAL;

  public abstract String python();

  public abstract List<String> pythonPath();

  public abstract List<String> handlerModules();

  public abstract int workers();

  public abstract int maxBatchSize();

  public abstract long maxBatchBytes();

  public abstract long maxElementBytes();

  public abstract int maxAttempts();

  public abstract FormatChoice protocol();

  public abstract Duration requestTimeout();

  public abstract Duration startTimeout();

  public abstract Duration setupTimeout();

  public abstract Duration restartBackoff();

  public abstract Duration maxBufferingDuration();

  public abstract Builder toBuilder();

  /** Every default; the interpreter unset (then {@code $DSPEX_PYTHON}). */
  public static ExecutionSettings defaults() {
    return new AutoValue_ExecutionSettings.Builder()
        .setPython("")
        .setPythonPath(List.of())
        .setHandlerModules(List.of())
        .setWorkers(DEFAULT_WORKERS)
        .setMaxBatchSize(DEFAULT_MAX_BATCH_SIZE)
        .setMaxBatchBytes(DEFAULT_MAX_BATCH_BYTES)
        .setMaxElementBytes(DEFAULT_MAX_ELEMENT_BYTES)
        .setMaxAttempts(DEFAULT_MAX_ATTEMPTS)
        .setProtocol(FormatChoice.AUTO)
        .setRequestTimeout(DEFAULT_REQUEST_TIMEOUT)
        .setStartTimeout(DEFAULT_START_TIMEOUT)
        .setSetupTimeout(DEFAULT_SETUP_TIMEOUT)
        .setRestartBackoff(DEFAULT_RESTART_BACKOFF)
        .setMaxBufferingDuration(DEFAULT_MAX_BUFFERING_DURATION)
        .build();
  }

  /** Builder of {@link ExecutionSettings}; checks are in the transforms' {@code with*} methods. */
  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setPython(String python);

    public abstract Builder setPythonPath(List<String> entries);

    public abstract Builder setHandlerModules(List<String> modules);

    public abstract Builder setWorkers(int n);

    public abstract Builder setMaxBatchSize(int n);

    public abstract Builder setMaxBatchBytes(long n);

    public abstract Builder setMaxElementBytes(long n);

    public abstract Builder setMaxAttempts(int n);

    public abstract Builder setProtocol(FormatChoice p);

    public abstract Builder setRequestTimeout(Duration d);

    public abstract Builder setStartTimeout(Duration d);

    public abstract Builder setSetupTimeout(Duration d);

    public abstract Builder setRestartBackoff(Duration d);

    public abstract Builder setMaxBufferingDuration(Duration d);

    public abstract ExecutionSettings build();
  }

  // The with* checks, shared by both transforms; `method` is the public method's name.

  public ExecutionSettings withPython(String interpreter) {
    return toBuilder().setPython(nonEmpty(interpreter, "withPython")).build();
  }

  public ExecutionSettings withPythonPath(String... entries) {
    check(entries != null, "withPythonPath: entries must not be null");
    for (String e : entries) {
      nonEmpty(e, "withPythonPath");
    }
    return toBuilder().setPythonPath(List.of(entries)).build();
  }

  public ExecutionSettings withHandlerModules(String... modules) {
    for (String m : modules) {
      nonEmpty(m, "withHandlerModules");
    }
    return toBuilder().setHandlerModules(List.of(modules)).build();
  }

  public ExecutionSettings withWorkers(int n) {
    check(n > 0, "withWorkers: workers per JVM must be positive, was %s", n);
    return toBuilder().setWorkers(n).build();
  }

  public ExecutionSettings withMaxBatchSize(int n) {
    check(n > 0, "withMaxBatchSize: must be positive, was %s", n);
    return toBuilder().setMaxBatchSize(n).build();
  }

  public ExecutionSettings withMaxBatchBytes(long n) {
    check(n > 0, "withMaxBatchBytes: must be positive, was %s", n);
    return toBuilder().setMaxBatchBytes(n).build();
  }

  public ExecutionSettings withMaxElementBytes(long n) {
    check(n > 0, "withMaxElementBytes: must be positive, was %s", n);
    return toBuilder().setMaxElementBytes(n).build();
  }

  public ExecutionSettings withMaxAttempts(int n) {
    check(n > 0, "withMaxAttempts: must be positive, was %s", n);
    return toBuilder().setMaxAttempts(n).build();
  }

  public ExecutionSettings withProtocol(FormatChoice p) {
    check(p != null && !p.isRef(),
        "withFormat: must be auto, %s, was %s", ContentFormat.wireNamesInProse(), p);
    return toBuilder().setProtocol(p).build();
  }

  private static Duration positive(Duration d, String method) {
    check(d != null && !d.isNegative() && !d.isZero(), "%s: must be positive, was %s", method, d);
    return d;
  }

  public ExecutionSettings withRequestTimeout(Duration d) {
    return toBuilder().setRequestTimeout(positive(d, "withRequestTimeout")).build();
  }

  public ExecutionSettings withStartTimeout(Duration d) {
    return toBuilder().setStartTimeout(positive(d, "withStartTimeout")).build();
  }

  public ExecutionSettings withSetupTimeout(Duration d) {
    return toBuilder().setSetupTimeout(positive(d, "withSetupTimeout")).build();
  }

  public ExecutionSettings withMaxBufferingDuration(Duration d) {
    return toBuilder().setMaxBufferingDuration(positive(d, "withMaxBufferingDuration")).build();
  }

  public ExecutionSettings withRestartBackoff(Duration d) {
    return toBuilder().setRestartBackoff(positive(d, "withRestartBackoff")).build();
  }

  /**
   * The configuration a transform's DoFns acquire: {@link #workerConfig()} with the handler's
   * {@code setup} arguments, and the API key's variable (if any) marked secret. The key's value
   * stays in the environment the worker inherits; only its name travels, and marking it secret
   * keeps it out of every log line and exception message.
   */
  public WorkerConfig workerConfig(Map<String, Object> setupArgs, String apiKeyEnv) {
    WorkerConfig c = workerConfig().withSetup(setupArgs);
    return apiKeyEnv == null ? c : c.withSecretEnvNames(apiKeyEnv);
  }

  /**
   * The connector configuration: these settings plus the transform's {@code setup}. The crash-loop
   * breaker is sized so that bisecting a full batch down to one poison element (about {@code
   * log2(maxBatchSize)} crashes, then {@code maxAttempts} alone) does not trip it.
   */
  public WorkerConfig workerConfig() {
    int bisectionCrashes = 2 * (32 - Integer.numberOfLeadingZeros(Math.max(1, maxBatchSize())))
        + maxAttempts() + 2;
    WorkerConfig c = WorkerConfig.create()
        .withWorkers(workers())
        .withRequestTimeout(requestTimeout())
        .withStartTimeout(startTimeout())
        .withSetupTimeout(setupTimeout())
        .withRestartBackoff(restartBackoff(),
            restartBackoff().compareTo(Duration.ofSeconds(60)) > 0 ? restartBackoff() : Duration.ofSeconds(60))
        .withCrashLoop(Math.max(WorkerConfig.DEFAULT_CRASH_LOOP_CRASHES, bisectionCrashes),
            WorkerConfig.DEFAULT_CRASH_LOOP_WINDOW);
    if (!python().isEmpty()) {
      c = c.withPython(python());
    }
    if (!pythonPath().isEmpty()) {
      c = c.withPythonPath(pythonPath().toArray(new String[0]));
    }
    if (!handlerModules().isEmpty()) {
      c = c.withHandlerModules(handlerModules().toArray(new String[0]));
    }
    return c;
  }
}
