package org.dspex.beam.connector.worker;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.dspex.beam.connector.environment.PythonEnvironment;
import org.dspex.beam.connector.protocol.ProtocolSettings;

/**
 * How to start and supervise Python workers: interpreter, module, handler modules, thread counts,
 * timeouts, restart policy, environment. Immutable: every {@code with*} method checks its argument at
 * once and returns a copy. Equal configurations share one {@link WorkerPool} per JVM (see {@link
 * WorkerPools}), so everything that makes a worker different belongs here.
 *
 * <pre>{@code
 * WorkerConfig config = WorkerConfig.create()
 *     .withPython("/opt/venv/bin/python")            // else $DSPEX_PYTHON
 *     .withHandlerModules("my_project.handlers")
 *     .withWorkers(4)
 *     .withRequestTimeout(Duration.ofMinutes(2))
 *     .withSecretEnv("OPENAI_API_KEY", apiKey);       // passed on, never logged
 * }</pre>
 *
 * <h3>Interpreter</h3>
 *
 * <p>{@link #withPython} first, then the environment variable {@code DSPEX_PYTHON}; with neither, the
 * {@link #withEnvironment environment}: by default a venv the connector builds itself on first use
 * from the lock file in its jar, in a per-user cache (see {@link PythonEnvironment}); with {@link
 * PythonEnvironment#none()}, a start fails with a {@link WorkerStartException} saying what to set. A
 * configured interpreter must be Python 3.11 or newer with numpy, pyarrow and msgpack installed
 * ({@code python -m pip install --require-hashes -r requirements.lock}); the worker code itself comes
 * from the connector jar.
 *
 * <h3>Environment of a worker</h3>
 *
 * <p>The JVM's environment, then {@code OMP_NUM_THREADS}, {@code MKL_NUM_THREADS} and {@code
 * OPENBLAS_NUM_THREADS} set to {@link #threadsPerWorker()}, {@code PYTHONUNBUFFERED=1}, {@code
 * PYTHONPATH} (the bundled worker code, then {@link #withPythonPath} entries), then {@link #withEnv}
 * and {@link #withSecretEnv} entries. Values of secret variables are replaced by {@code ***} in
 * every log line, stderr line and exception message the connector produces.
 *
 * <h3>Serializable</h3>
 *
 * <p>A configuration travels inside a pipeline to the machines where its workers run, and resolves
 * there what depends on the machine: the interpreter ({@code $DSPEX_PYTHON} when {@link #withPython}
 * is not used) and the derived thread count. The values of {@link #withSecretEnv} travel with it;
 * in a pipeline, leave secrets in the workers' environment and name them with {@link
 * #withSecretEnvNames}.
 */
@AutoValue
public abstract class WorkerConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The module run with {@code python -m}. */
  public static final String DEFAULT_MODULE = "dspex_worker";
  /** Workers per pool. */
  public static final int DEFAULT_WORKERS = 1;
  /** Threads a worker runs requests on ({@code request_threads} in hello). */
  public static final int DEFAULT_REQUEST_THREADS = 4;
  /** Time from process start to an answered {@code hello}; numpy and pyarrow imports are slow. */
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);
  /** Time for one {@code setup} (a model load). */
  public static final Duration DEFAULT_SETUP_TIMEOUT = Duration.ofMinutes(10);
  /** Time for one request (a batch), or between two events of a stream. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofMinutes(5);
  /**
   * Time a worker with requests in flight may leave a ping unanswered before it counts as stalled
   * and is killed: a tenth of the request timeout, since a live worker answers pings at once even
   * while its handlers wait for an LM.
   */
  public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(30);
  /** Time between SIGTERM and SIGKILL when a worker is killed. */
  public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(5);
  /** A worker idle this long is pinged. */
  public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(30);
  /** The first delay before restarting a dead worker; it doubles per crash in a row. */
  public static final Duration DEFAULT_RESTART_BACKOFF_INITIAL = Duration.ofSeconds(1);
  /** The longest delay before restarting a dead worker. */
  public static final Duration DEFAULT_RESTART_BACKOFF_MAX = Duration.ofSeconds(60);
  /** Crashes within {@link #DEFAULT_CRASH_LOOP_WINDOW} that stop a pool. */
  public static final int DEFAULT_CRASH_LOOP_CRASHES = 5;
  /** The window for {@link #DEFAULT_CRASH_LOOP_CRASHES}. */
  public static final Duration DEFAULT_CRASH_LOOP_WINDOW = Duration.ofSeconds(60);
  /**
   * Worker starts in a row (start, {@code hello} and setups) that may fail before a pool stops: a
   * worker that never comes up fails its pool in seconds (1 s and 2 s of backoff between the
   * three) instead of being restarted forever.
   */
  public static final int DEFAULT_MAX_START_FAILURES = 3;
  /** Requests after which a worker is replaced; 0: never. */
  public static final long DEFAULT_RECYCLE_AFTER_REQUESTS = 0;
  /** A pool without requests this long stops its workers (restarted on demand); zero: never. */
  public static final Duration DEFAULT_IDLE_SHUTDOWN = Duration.ZERO;
  /** Last stderr lines kept per worker for crash messages. */
  public static final int DEFAULT_STDERR_LINES = 20;
  /** Requests queued per worker for its writer thread before callers wait. */
  public static final int DEFAULT_QUEUE_CAPACITY = 64;
  /** Environment variable naming the interpreter when {@link #withPython} is not used. */
  public static final String PYTHON_ENV = "DSPEX_PYTHON";

  WorkerConfig() {}

  /** A configuration with every default. */
  public static WorkerConfig create() {
    return new AutoValue_WorkerConfig.Builder()
        .setPythonSetting("")
        .setEnvironment(PythonEnvironment.managed())
        .setCommand(List.of())
        .setLegacyV1Peers(false)
        .setModule(DEFAULT_MODULE)
        .setHandlerModules(List.of())
        .setPythonPath(List.of())
        .setWorkers(DEFAULT_WORKERS)
        .setThreadsPerWorkerSetting(0)
        .setRequestThreads(DEFAULT_REQUEST_THREADS)
        .setStartTimeout(DEFAULT_START_TIMEOUT)
        .setSetupTimeout(DEFAULT_SETUP_TIMEOUT)
        .setRequestTimeout(DEFAULT_REQUEST_TIMEOUT)
        .setStallTimeout(DEFAULT_STALL_TIMEOUT)
        .setKillGrace(DEFAULT_KILL_GRACE)
        .setPingInterval(DEFAULT_PING_INTERVAL)
        .setRestartBackoffInitial(DEFAULT_RESTART_BACKOFF_INITIAL)
        .setRestartBackoffMax(DEFAULT_RESTART_BACKOFF_MAX)
        .setCrashLoopCrashes(DEFAULT_CRASH_LOOP_CRASHES)
        .setCrashLoopWindow(DEFAULT_CRASH_LOOP_WINDOW)
        .setMaxStartFailures(DEFAULT_MAX_START_FAILURES)
        .setRecycleAfterRequests(DEFAULT_RECYCLE_AFTER_REQUESTS)
        .setIdleShutdown(DEFAULT_IDLE_SHUTDOWN)
        .setStderrLines(DEFAULT_STDERR_LINES)
        .setQueueCapacity(DEFAULT_QUEUE_CAPACITY)
        .setSpill(true)
        .setProtocolSettings(ProtocolSettings.defaults())
        .setEnv(Map.of())
        .setSecretEnvNames(Set.of())
        .setSetups(List.of())
        .build();
  }

  // The settings. Equality (pools are keyed by configuration) covers every one of them.

  /** The explicit interpreter, empty when unset. */
  abstract String pythonSetting();

  /** Where the interpreter comes from when none is configured (default: the managed venv). */
  public abstract PythonEnvironment environment();

  /** The worker command line; empty: the Python module launch. */
  public abstract List<String> command();

  /** Whether V1 peers are served. */
  public abstract boolean legacyV1Peers();

  /** The module run with {@code -m}. */
  public abstract String module();

  /** Handler modules for hello. */
  public abstract List<String> handlerModules();

  /** Extra PYTHONPATH entries. */
  public abstract List<String> pythonPath();

  /** Workers per pool. */
  public abstract int workers();

  /** BLAS threads per worker as set, 0 when derived. */
  abstract int threadsPerWorkerSetting();

  /** Request threads per worker. */
  public abstract int requestThreads();

  /** Start (handshake) timeout. */
  public abstract Duration startTimeout();

  /** Setup timeout. */
  public abstract Duration setupTimeout();

  /** Request timeout. */
  public abstract Duration requestTimeout();

  /** Stall timeout, zero when off. */
  public abstract Duration stallTimeout();

  /** SIGTERM to SIGKILL grace. */
  public abstract Duration killGrace();

  /** Idle ping interval. */
  public abstract Duration pingInterval();

  /** First restart delay. */
  public abstract Duration restartBackoffInitial();

  /** Longest restart delay. */
  public abstract Duration restartBackoffMax();

  /** Crashes that trip the breaker. */
  public abstract int crashLoopCrashes();

  /** The breaker's window. */
  public abstract Duration crashLoopWindow();

  /** Failed starts in a row that stop a pool. */
  public abstract int maxStartFailures();

  /** Requests before recycling, 0 never. */
  public abstract long recycleAfterRequests();

  /** Idle shutdown, zero never. */
  public abstract Duration idleShutdown();

  /** Stderr lines kept. */
  public abstract int stderrLines();

  /** Writer queue capacity per worker. */
  public abstract int queueCapacity();

  /** Whether REF spill files are used. */
  public abstract boolean spill();

  /** Protocol settings. */
  public abstract ProtocolSettings protocolSettings();

  /** Extra environment, secret values included. */
  public abstract Map<String, String> env();

  /** Names of secret environment variables. */
  public abstract Set<String> secretEnvNames();

  /** Setup commands run on every worker. */
  public abstract List<Map<String, Object>> setups();

  abstract Builder toBuilder();

  /** The setters behind the checked {@code with*} methods. */
  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setPythonSetting(String python);

    abstract Builder setEnvironment(PythonEnvironment environment);

    abstract Builder setCommand(List<String> argv);

    abstract Builder setLegacyV1Peers(boolean serve);

    abstract Builder setModule(String module);

    abstract Builder setHandlerModules(List<String> modules);

    abstract Builder setPythonPath(List<String> entries);

    abstract Builder setWorkers(int n);

    abstract Builder setThreadsPerWorkerSetting(int n);

    abstract Builder setRequestThreads(int n);

    abstract Builder setStartTimeout(Duration d);

    abstract Builder setSetupTimeout(Duration d);

    abstract Builder setRequestTimeout(Duration d);

    abstract Builder setStallTimeout(Duration d);

    abstract Builder setKillGrace(Duration d);

    abstract Builder setPingInterval(Duration d);

    abstract Builder setRestartBackoffInitial(Duration d);

    abstract Builder setRestartBackoffMax(Duration d);

    abstract Builder setCrashLoopCrashes(int n);

    abstract Builder setCrashLoopWindow(Duration d);

    abstract Builder setMaxStartFailures(int n);

    abstract Builder setRecycleAfterRequests(long n);

    abstract Builder setIdleShutdown(Duration d);

    abstract Builder setStderrLines(int n);

    abstract Builder setQueueCapacity(int n);

    abstract Builder setSpill(boolean enabled);

    abstract Builder setProtocolSettings(ProtocolSettings settings);

    abstract Builder setEnv(Map<String, String> env);

    abstract Builder setSecretEnvNames(Set<String> names);

    abstract Builder setSetups(List<Map<String, Object>> setups);

    abstract WorkerConfig build();
  }

  /** The explicit interpreter, or {@code null}. */
  public String python() {
    return pythonSetting().isEmpty() ? null : pythonSetting();
  }

  /** BLAS threads per worker: the setting, else max(1, cores / workers) of the machine it runs on. */
  public int threadsPerWorker() {
    int n = threadsPerWorkerSetting();
    return n > 0 ? n : Math.max(1, Runtime.getRuntime().availableProcessors() / workers());
  }

  private static void check(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }

  private static Duration positive(Duration d, String what) {
    check(d != null && !d.isNegative() && !d.isZero(), "%s must be positive, was %s", what, d);
    return d;
  }

  private static String nonEmpty(String s, String what) {
    check(s != null && !s.isBlank(), "%s must not be empty, was %s", what, s == null ? null : "'" + s + "'");
    return s;
  }

  private static List<String> nonEmptyEach(String[] values, String what) {
    check(values != null, "%s must not be null", what);
    List<String> list = List.copyOf(Arrays.asList(values));
    list.forEach(v -> nonEmpty(v, what));
    return list;
  }

  /** The Python interpreter to run (default: none, then {@code $DSPEX_PYTHON}, then {@link #withEnvironment}). */
  public WorkerConfig withPython(String interpreter) {
    return toBuilder().setPythonSetting(nonEmpty(interpreter, "python interpreter")).build();
  }

  /**
   * Where the interpreter comes from when neither {@link #withPython} nor {@code $DSPEX_PYTHON} names
   * one (default {@link PythonEnvironment#managed()}: a venv the connector builds on first use from its
   * bundled lock file; {@link PythonEnvironment#none()} refuses to start instead).
   */
  public WorkerConfig withEnvironment(PythonEnvironment environment) {
    check(environment != null, "environment must not be null");
    return toBuilder().setEnvironment(environment).build();
  }

  /**
   * Runs each worker as this command line ({@code argv}, the program first) instead of the Python
   * module launch (default: none, {@code python -m} {@link #withModule module} behind a preflight
   * that checks the interpreter). The worker gets the same environment and the same {@code hello};
   * anything that answers it as docs/protocol.md says is a worker (a V1 peer only with {@link
   * #withLegacyV1Peers}).
   */
  public WorkerConfig withCommand(List<String> argv) {
    check(argv != null && !argv.isEmpty(), "worker command must not be empty, was %s", argv);
    argv.forEach(a -> check(a != null && !a.isEmpty(), "worker command arguments must not be empty, were %s", argv));
    return toBuilder().setCommand(List.copyOf(argv)).build();
  }

  /**
   * Whether a worker that answers {@code hello} as a V1 peer (a legacy DSPex bridge: no {@code
   * protocol} in its answer, or "Unknown command: hello") is served (default false: such a worker
   * fails to start at once with a {@link WorkerStartException} saying so). A V1 worker is served
   * JSON only: a stream request or a body that cannot go inline as JSON fails alone, before it is
   * sent, with an {@link UnsupportedRequestException}; health pings are V1 {@code ping}s.
   */
  public WorkerConfig withLegacyV1Peers(boolean serve) {
    return toBuilder().setLegacyV1Peers(serve).build();
  }

  /** The module run with {@code python -m} (default {@value #DEFAULT_MODULE}). */
  public WorkerConfig withModule(String moduleName) {
    return toBuilder().setModule(nonEmpty(moduleName, "module")).build();
  }

  /** Modules whose handlers the worker registers ({@code handler_modules} in hello; default none). */
  public WorkerConfig withHandlerModules(String... modules) {
    return toBuilder().setHandlerModules(nonEmptyEach(modules, "handler module")).build();
  }

  /** {@code PYTHONPATH} entries after the bundled worker code (default none). */
  public WorkerConfig withPythonPath(String... entries) {
    return toBuilder().setPythonPath(nonEmptyEach(entries, "PYTHONPATH entry")).build();
  }

  /** Workers in a pool (default {@value #DEFAULT_WORKERS}). */
  public WorkerConfig withWorkers(int n) {
    check(n > 0, "workers must be positive, was %s", n);
    return toBuilder().setWorkers(n).build();
  }

  /** BLAS/OpenMP threads per worker (default max(1, cores / workers)). */
  public WorkerConfig withThreadsPerWorker(int n) {
    check(n > 0, "threads per worker must be positive, was %s", n);
    return toBuilder().setThreadsPerWorkerSetting(n).build();
  }

  /** Requests a worker runs at once (default {@value #DEFAULT_REQUEST_THREADS}). */
  public WorkerConfig withRequestThreads(int n) {
    check(n > 0, "request threads must be positive, was %s", n);
    return toBuilder().setRequestThreads(n).build();
  }

  /** Process start to answered hello (default {@link #DEFAULT_START_TIMEOUT}, 60 s). */
  public WorkerConfig withStartTimeout(Duration d) {
    return toBuilder().setStartTimeout(positive(d, "start timeout")).build();
  }

  /** One {@code setup} command (default {@link #DEFAULT_SETUP_TIMEOUT}, 10 min). */
  public WorkerConfig withSetupTimeout(Duration d) {
    return toBuilder().setSetupTimeout(positive(d, "setup timeout")).build();
  }

  /**
   * One request, or the gap between two events of a stream (default {@link
   * #DEFAULT_REQUEST_TIMEOUT}, 5 min). A late worker is killed.
   */
  public WorkerConfig withRequestTimeout(Duration d) {
    return toBuilder().setRequestTimeout(positive(d, "request timeout")).build();
  }

  /**
   * How long a worker with requests in flight may leave a ping unanswered (default {@link
   * #DEFAULT_STALL_TIMEOUT}, 30 s; zero: never checked). A busy worker that has sent nothing for a
   * second (or a tenth of this) is pinged; a worker answers pings on its reader thread even while
   * its handlers run, so one that answers nothing for this long is stalled (stopped with SIGSTOP,
   * deadlocked, its reader starved) and is killed at once (SIGKILL); its requests fail with a
   * retryable {@link WorkerCrashedException} and a new worker is started. A slow but live request
   * is not interrupted: only {@link #withRequestTimeout} bounds it. V1 peers, which answer one
   * request at a time, are not checked; a {@link #withCommand} worker must answer pings during its
   * requests as docs/protocol.md says, or run with this set to zero.
   */
  public WorkerConfig withStallTimeout(Duration d) {
    check(d != null && !d.isNegative(), "stall timeout must not be negative, was %s", d);
    return toBuilder().setStallTimeout(d).build();
  }

  /** SIGTERM to SIGKILL when killing a worker (default {@link #DEFAULT_KILL_GRACE}, 5 s). */
  public WorkerConfig withKillGrace(Duration d) {
    return toBuilder().setKillGrace(positive(d, "kill grace")).build();
  }

  /** Idle time after which a worker is pinged (default {@link #DEFAULT_PING_INTERVAL}, 30 s). */
  public WorkerConfig withPingInterval(Duration d) {
    return toBuilder().setPingInterval(positive(d, "ping interval")).build();
  }

  /** Restart delays: first, doubling up to max (defaults 1 s and 60 s). */
  public WorkerConfig withRestartBackoff(Duration initial, Duration max) {
    positive(initial, "initial restart backoff");
    positive(max, "max restart backoff");
    check(max.compareTo(initial) >= 0, "max restart backoff %s is below the initial %s", max, initial);
    return toBuilder().setRestartBackoffInitial(initial).setRestartBackoffMax(max).build();
  }

  /**
   * The crash-loop breaker: {@code crashes} deaths of started workers within {@code window} stop
   * the pool with a {@link CrashLoopException} (defaults 5 in 60 s). Workers that fail while
   * starting count towards {@link #withMaxStartFailures} instead.
   */
  public WorkerConfig withCrashLoop(int crashes, Duration window) {
    check(crashes > 0, "crash-loop crashes must be positive, was %s", crashes);
    return toBuilder().setCrashLoopCrashes(crashes).setCrashLoopWindow(positive(window, "crash-loop window")).build();
  }

  /**
   * Worker starts in a row that may fail (the process died or timed out before its {@code hello}
   * or its setups were done) before the pool stops restarting and fails with a {@link
   * WorkerStartException} naming the last worker, how it ended and its last stderr lines (default
   * {@value #DEFAULT_MAX_START_FAILURES}). Any worker of the pool that completes its setup resets
   * the count; a start failure that no restart can fix (no interpreter, a refused setup) fails the
   * pool at once.
   */
  public WorkerConfig withMaxStartFailures(int n) {
    check(n > 0, "max start failures must be positive, was %s", n);
    return toBuilder().setMaxStartFailures(n).build();
  }

  /** Replace a worker gracefully after this many requests; 0 never (the default). */
  public WorkerConfig withRecycleAfterRequests(long n) {
    check(n >= 0, "recycle after requests must not be negative, was %s", n);
    return toBuilder().setRecycleAfterRequests(n).build();
  }

  /** Stop the workers of a pool idle this long; zero never (the default). */
  public WorkerConfig withIdleShutdown(Duration d) {
    check(d != null && !d.isNegative(), "idle shutdown must not be negative, was %s", d);
    return toBuilder().setIdleShutdown(d).build();
  }

  /** Last stderr lines kept for crash messages (default {@value #DEFAULT_STDERR_LINES}). */
  public WorkerConfig withStderrLines(int n) {
    check(n >= 0, "stderr lines must not be negative, was %s", n);
    return toBuilder().setStderrLines(n).build();
  }

  /** Requests queued per worker before a caller waits (default {@value #DEFAULT_QUEUE_CAPACITY}). */
  public WorkerConfig withQueueCapacity(int n) {
    check(n > 0, "queue capacity must be positive, was %s", n);
    return toBuilder().setQueueCapacity(n).build();
  }

  /** Whether large bodies may travel as REF spill files (default true). */
  public WorkerConfig withSpill(boolean enabled) {
    return toBuilder().setSpill(enabled).build();
  }

  /** Frame limits and AUTO thresholds (default {@link ProtocolSettings#defaults()}). */
  public WorkerConfig withProtocolSettings(ProtocolSettings settings) {
    check(settings != null, "protocol settings must not be null");
    return toBuilder().setProtocolSettings(settings).build();
  }

  /** An environment variable for the workers (default none). */
  public WorkerConfig withEnv(String name, String value) {
    nonEmpty(name, "environment variable name");
    check(value != null, "environment variable %s must have a value", name);
    Map<String, String> m = new TreeMap<>(env());
    m.put(name, value);
    return toBuilder().setEnv(Collections.unmodifiableMap(m)).build();
  }

  /** A secret environment variable: passed to the workers, its value redacted everywhere. */
  public WorkerConfig withSecretEnv(String name, String value) {
    return withEnv(name, value).withSecretEnvNames(name);
  }

  /**
   * Names of environment variables (from {@link #withEnv} or the JVM's environment) whose values
   * are secrets (default none).
   */
  public WorkerConfig withSecretEnvNames(String... names) {
    Set<String> s = new LinkedHashSet<>(secretEnvNames());
    s.addAll(nonEmptyEach(names, "secret variable name"));
    return toBuilder().setSecretEnvNames(Collections.unmodifiableSet(s)).build();
  }

  /**
   * A {@code setup} command (args {@code {kind, ...}}, e.g. a model to load) run on every worker
   * after its handshake and before its first request, within the setup timeout; a failed setup
   * fails the start. Several are run in order (default none).
   */
  public WorkerConfig withSetup(Map<String, ?> args) {
    check(args != null && args.get("kind") != null, "setup args need a 'kind', were %s", args);
    List<Map<String, Object>> l = new ArrayList<>(setups());
    l.add(Collections.unmodifiableMap(new LinkedHashMap<>(args)));
    return toBuilder().setSetups(List.copyOf(l)).build();
  }

  /** The redactor for this configuration's secrets, looked up in {@code inherited} too. */
  Redactor redactor(Map<String, String> inherited) {
    List<String> values = new ArrayList<>();
    for (String n : secretEnvNames()) {
      String v = env().containsKey(n) ? env().get(n) : inherited.get(n);
      if (v != null) {
        values.add(v);
      }
    }
    return Redactor.of(values);
  }

  /**
   * The main settings; values of secret variables show as {@code ***}, wherever they appear (a
   * command line may carry one).
   */
  @Override
  public final String toString() {
    Map<String, String> shownEnv = new TreeMap<>();
    env().forEach((k, v) -> shownEnv.put(k, secretEnvNames().contains(k) ? Redactor.MASK : v));
    String text = "WorkerConfig{python=" + python()
        + (command().isEmpty() ? "" : ", command=" + command() + ", legacyV1Peers=" + legacyV1Peers())
        + ", module=" + module() + ", handlerModules=" + handlerModules() + ", workers=" + workers()
        + ", threadsPerWorker=" + threadsPerWorker() + ", requestThreads=" + requestThreads()
        + ", startTimeout=" + startTimeout() + ", setupTimeout=" + setupTimeout() + ", requestTimeout="
        + requestTimeout() + ", stallTimeout=" + stallTimeout() + ", env=" + shownEnv + ", secretEnvNames=" + secretEnvNames() + "}";
    return redactor(env()).redact(text);
  }
}
