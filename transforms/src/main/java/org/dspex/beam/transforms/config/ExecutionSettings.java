package org.dspex.beam.transforms.config;

import static org.dspex.beam.transforms.config.Checks.check;
import static org.dspex.beam.transforms.config.Checks.nonEmpty;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.time.Duration;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.environment.PythonEnvironment;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.worker.WorkerConfig;

/**
 * The settings {@code DSPexPredict} and {@code DSPexEmbed} share: how their workers run (a
 * connector {@link WorkerConfig}: interpreter, path, count, timeouts, restarts), and how elements
 * are batched and retried. Immutable; the transforms' {@code with*} methods check their arguments
 * here, with messages that name the transform's method, and change one setting. The worker
 * configuration travels with the pipeline and resolves on the worker machine what depends on it
 * (the interpreter from {@code $DSPEX_PYTHON} when none is set, the thread count).
 */
@AutoValue
public abstract class ExecutionSettings implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Python workers per JVM and transform configuration. */
  public static final int DEFAULT_WORKERS = WorkerConfig.DEFAULT_WORKERS;
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
  /** A worker with requests in flight that answers no ping this long is stalled and replaced. */
  public static final Duration DEFAULT_STALL_TIMEOUT = WorkerConfig.DEFAULT_STALL_TIMEOUT;
  /** Process start to answered hello. */
  public static final Duration DEFAULT_START_TIMEOUT = WorkerConfig.DEFAULT_START_TIMEOUT;
  /** Loading the program or model on a worker. */
  public static final Duration DEFAULT_SETUP_TIMEOUT = WorkerConfig.DEFAULT_SETUP_TIMEOUT;
  /** Unbounded input: the longest an element waits for its batch to fill. */
  public static final Duration DEFAULT_MAX_BUFFERING_DURATION = Duration.ofSeconds(5);
  /** First delay before a dead worker is restarted (doubling while it keeps failing to start). */
  public static final Duration DEFAULT_RESTART_BACKOFF = WorkerConfig.DEFAULT_RESTART_BACKOFF_INITIAL;

  /** How the workers run, before the transform's {@code setup} and crash-loop sizing ({@link #workerConfig()}). */
  public abstract WorkerConfig worker();

  public abstract int maxBatchSize();

  public abstract long maxBatchBytes();

  public abstract long maxElementBytes();

  public abstract int maxAttempts();

  public abstract FormatChoice format();

  public abstract Duration maxBufferingDuration();

  /** Whether {@link #withEnvironment} was called; else the transform picks the venv's extra. */
  public abstract boolean environmentChosen();

  public abstract Builder toBuilder();

  /** Every default; the interpreter unset (then {@code $DSPEX_PYTHON}). */
  public static ExecutionSettings defaults() {
    return new AutoValue_ExecutionSettings.Builder()
        .setWorker(WorkerConfig.create())
        .setMaxBatchSize(DEFAULT_MAX_BATCH_SIZE)
        .setMaxBatchBytes(DEFAULT_MAX_BATCH_BYTES)
        .setMaxElementBytes(DEFAULT_MAX_ELEMENT_BYTES)
        .setMaxAttempts(DEFAULT_MAX_ATTEMPTS)
        .setFormat(FormatChoice.AUTO)
        .setMaxBufferingDuration(DEFAULT_MAX_BUFFERING_DURATION)
        .setEnvironmentChosen(false)
        .build();
  }

  /** Builder of {@link ExecutionSettings}; checks are in the {@code with*} methods. */
  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setWorker(WorkerConfig worker);

    public abstract Builder setMaxBatchSize(int n);

    public abstract Builder setMaxBatchBytes(long n);

    public abstract Builder setMaxElementBytes(long n);

    public abstract Builder setMaxAttempts(int n);

    public abstract Builder setFormat(FormatChoice p);

    public abstract Builder setMaxBufferingDuration(Duration d);

    public abstract Builder setEnvironmentChosen(boolean chosen);

    public abstract ExecutionSettings build();
  }

  // The with* checks, shared by both transforms; `method` is the public method's name.

  private ExecutionSettings withWorker(WorkerConfig w) {
    return toBuilder().setWorker(w).build();
  }

  public ExecutionSettings withPython(String interpreter) {
    return withWorker(worker().withPython(nonEmpty(interpreter, "withPython")));
  }

  public ExecutionSettings withEnvironment(PythonEnvironment environment) {
    check(environment != null, "withEnvironment: must not be null");
    return toBuilder().setWorker(worker().withEnvironment(environment)).setEnvironmentChosen(true).build();
  }

  public ExecutionSettings withPythonPath(String... entries) {
    check(entries != null, "withPythonPath: entries must not be null");
    for (String e : entries) {
      nonEmpty(e, "withPythonPath");
    }
    return withWorker(worker().withPythonPath(entries));
  }

  public ExecutionSettings withHandlerModules(String... modules) {
    for (String m : modules) {
      nonEmpty(m, "withHandlerModules");
    }
    return withWorker(worker().withHandlerModules(modules));
  }

  public ExecutionSettings withWorkers(int n) {
    check(n > 0, "withWorkers: workers per JVM must be positive, was %s", n);
    return withWorker(worker().withWorkers(n));
  }

  public ExecutionSettings withThreadsPerWorker(int n) {
    check(n > 0, "withThreadsPerWorker: must be positive, was %s", n);
    return withWorker(worker().withThreadsPerWorker(n));
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

  public ExecutionSettings withFormat(FormatChoice p) {
    check(p != null && !p.isRef(),
        "withFormat: must be auto, %s, was %s", ContentFormat.wireNamesInProse(), p);
    return toBuilder().setFormat(p).build();
  }

  private static Duration positive(Duration d, String method) {
    check(d != null && !d.isNegative() && !d.isZero(), "%s: must be positive, was %s", method, d);
    return d;
  }

  public ExecutionSettings withRequestTimeout(Duration d) {
    return withWorker(worker().withRequestTimeout(positive(d, "withRequestTimeout")));
  }

  /** Zero turns the stall watch off. */
  public ExecutionSettings withStallTimeout(Duration d) {
    check(d != null && !d.isNegative(), "withStallTimeout: must not be negative, was %s", d);
    return withWorker(worker().withStallTimeout(d));
  }

  public ExecutionSettings withStartTimeout(Duration d) {
    return withWorker(worker().withStartTimeout(positive(d, "withStartTimeout")));
  }

  public ExecutionSettings withSetupTimeout(Duration d) {
    return withWorker(worker().withSetupTimeout(positive(d, "withSetupTimeout")));
  }

  public ExecutionSettings withMaxBufferingDuration(Duration d) {
    return toBuilder().setMaxBufferingDuration(positive(d, "withMaxBufferingDuration")).build();
  }

  /** The first restart delay; it doubles up to 60 s, or stays if longer. */
  public ExecutionSettings withRestartBackoff(Duration d) {
    positive(d, "withRestartBackoff");
    Duration max = d.compareTo(WorkerConfig.DEFAULT_RESTART_BACKOFF_MAX) > 0 ? d : WorkerConfig.DEFAULT_RESTART_BACKOFF_MAX;
    return withWorker(worker().withRestartBackoff(d, max));
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
   * The connector configuration: {@link #worker()} with a crash-loop breaker sized so that
   * bisecting a full batch down to one poison element (about {@code log2(maxBatchSize)} crashes,
   * then {@code maxAttempts} alone) does not trip it.
   */
  public WorkerConfig workerConfig() {
    int bisectionCrashes = 2 * (32 - Integer.numberOfLeadingZeros(Math.max(1, maxBatchSize())))
        + maxAttempts() + 2;
    return worker().withCrashLoop(Math.max(WorkerConfig.DEFAULT_CRASH_LOOP_CRASHES, bisectionCrashes),
        WorkerConfig.DEFAULT_CRASH_LOOP_WINDOW);
  }
}
