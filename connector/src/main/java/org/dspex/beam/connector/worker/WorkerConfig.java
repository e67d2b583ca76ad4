package org.dspex.beam.connector.worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
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
 * <p>{@link #withPython} first, then the environment variable {@code DSPEX_PYTHON}; with neither, a
 * start fails with a {@link WorkerStartException} saying to set one. The interpreter must be Python
 * 3.11 or newer with numpy, pyarrow and msgpack installed ({@code python -m pip install
 * --require-hashes -r requirements.lock}); the worker code itself comes from the connector jar.
 *
 * <h3>Environment of a worker</h3>
 *
 * <p>The JVM's environment, then {@code OMP_NUM_THREADS}, {@code MKL_NUM_THREADS} and {@code
 * OPENBLAS_NUM_THREADS} set to {@link #threadsPerWorker()}, {@code PYTHONUNBUFFERED=1}, {@code
 * PYTHONPATH} (the bundled worker code, then {@link #withPythonPath} entries), then {@link #withEnv}
 * and {@link #withSecretEnv} entries. Values of secret variables are replaced by {@code ***} in
 * every log line, stderr line and exception message the connector produces.
 */
public final class WorkerConfig {
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

  private String python;
  private List<String> command = List.of();
  private boolean legacyV1Peers;
  private String module = DEFAULT_MODULE;
  private List<String> handlerModules = List.of();
  private List<String> pythonPath = List.of();
  private int workers = DEFAULT_WORKERS;
  private int threadsPerWorker;
  private int requestThreads = DEFAULT_REQUEST_THREADS;
  private Duration startTimeout = DEFAULT_START_TIMEOUT;
  private Duration setupTimeout = DEFAULT_SETUP_TIMEOUT;
  private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
  private Duration killGrace = DEFAULT_KILL_GRACE;
  private Duration pingInterval = DEFAULT_PING_INTERVAL;
  private Duration backoffInitial = DEFAULT_RESTART_BACKOFF_INITIAL;
  private Duration backoffMax = DEFAULT_RESTART_BACKOFF_MAX;
  private int crashLoopCrashes = DEFAULT_CRASH_LOOP_CRASHES;
  private Duration crashLoopWindow = DEFAULT_CRASH_LOOP_WINDOW;
  private long recycleAfterRequests = DEFAULT_RECYCLE_AFTER_REQUESTS;
  private Duration idleShutdown = DEFAULT_IDLE_SHUTDOWN;
  private int stderrLines = DEFAULT_STDERR_LINES;
  private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
  private boolean spill = true;
  private ProtocolSettings protocolSettings = ProtocolSettings.defaults();
  private Map<String, String> env = Map.of();
  private Set<String> secretNames = Set.of();
  private List<Map<String, Object>> setups = List.of();

  private WorkerConfig() {}

  /** A configuration with every default. */
  public static WorkerConfig create() {
    return new WorkerConfig();
  }

  private WorkerConfig copy() {
    WorkerConfig c = new WorkerConfig();
    c.python = python;
    c.command = command;
    c.legacyV1Peers = legacyV1Peers;
    c.module = module;
    c.handlerModules = handlerModules;
    c.pythonPath = pythonPath;
    c.workers = workers;
    c.threadsPerWorker = threadsPerWorker;
    c.requestThreads = requestThreads;
    c.startTimeout = startTimeout;
    c.setupTimeout = setupTimeout;
    c.requestTimeout = requestTimeout;
    c.killGrace = killGrace;
    c.pingInterval = pingInterval;
    c.backoffInitial = backoffInitial;
    c.backoffMax = backoffMax;
    c.crashLoopCrashes = crashLoopCrashes;
    c.crashLoopWindow = crashLoopWindow;
    c.recycleAfterRequests = recycleAfterRequests;
    c.idleShutdown = idleShutdown;
    c.stderrLines = stderrLines;
    c.queueCapacity = queueCapacity;
    c.spill = spill;
    c.protocolSettings = protocolSettings;
    c.env = env;
    c.secretNames = secretNames;
    c.setups = setups;
    return c;
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

  /** The Python interpreter to run (default: none, then {@code $DSPEX_PYTHON}). */
  public WorkerConfig withPython(String interpreter) {
    WorkerConfig c = copy();
    c.python = nonEmpty(interpreter, "python interpreter");
    return c;
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
    WorkerConfig c = copy();
    c.command = List.copyOf(argv);
    return c;
  }

  /**
   * Whether a worker that answers {@code hello} as a V1 peer (a legacy DSPex bridge: no {@code
   * protocol} in its answer, or "Unknown command: hello") is served (default false: such a worker
   * fails to start at once with a {@link WorkerStartException} saying so). A V1 worker is served
   * JSON only: a stream request or a body that cannot go inline as JSON fails alone, before it is
   * sent, with an {@link UnsupportedRequestException}; health pings are V1 {@code ping}s.
   */
  public WorkerConfig withLegacyV1Peers(boolean serve) {
    WorkerConfig c = copy();
    c.legacyV1Peers = serve;
    return c;
  }

  /** The module run with {@code python -m} (default {@value #DEFAULT_MODULE}). */
  public WorkerConfig withModule(String moduleName) {
    WorkerConfig c = copy();
    c.module = nonEmpty(moduleName, "module");
    return c;
  }

  /** Modules whose handlers the worker registers ({@code handler_modules} in hello; default none). */
  public WorkerConfig withHandlerModules(String... modules) {
    List<String> list = List.copyOf(Arrays.asList(modules));
    list.forEach(m -> nonEmpty(m, "handler module"));
    WorkerConfig c = copy();
    c.handlerModules = list;
    return c;
  }

  /** {@code PYTHONPATH} entries after the bundled worker code (default none). */
  public WorkerConfig withPythonPath(String... entries) {
    List<String> list = List.copyOf(Arrays.asList(entries));
    list.forEach(e -> nonEmpty(e, "PYTHONPATH entry"));
    WorkerConfig c = copy();
    c.pythonPath = list;
    return c;
  }

  /** Workers in a pool (default {@value #DEFAULT_WORKERS}). */
  public WorkerConfig withWorkers(int n) {
    check(n > 0, "workers must be positive, was %s", n);
    WorkerConfig c = copy();
    c.workers = n;
    return c;
  }

  /** BLAS/OpenMP threads per worker (default max(1, cores / workers)). */
  public WorkerConfig withThreadsPerWorker(int n) {
    check(n > 0, "threads per worker must be positive, was %s", n);
    WorkerConfig c = copy();
    c.threadsPerWorker = n;
    return c;
  }

  /** Requests a worker runs at once (default {@value #DEFAULT_REQUEST_THREADS}). */
  public WorkerConfig withRequestThreads(int n) {
    check(n > 0, "request threads must be positive, was %s", n);
    WorkerConfig c = copy();
    c.requestThreads = n;
    return c;
  }

  /** Process start to answered hello (default {@link #DEFAULT_START_TIMEOUT}, 60 s). */
  public WorkerConfig withStartTimeout(Duration d) {
    WorkerConfig c = copy();
    c.startTimeout = positive(d, "start timeout");
    return c;
  }

  /** One {@code setup} command (default {@link #DEFAULT_SETUP_TIMEOUT}, 10 min). */
  public WorkerConfig withSetupTimeout(Duration d) {
    WorkerConfig c = copy();
    c.setupTimeout = positive(d, "setup timeout");
    return c;
  }

  /**
   * One request, or the gap between two events of a stream (default {@link
   * #DEFAULT_REQUEST_TIMEOUT}, 5 min). A late worker is killed.
   */
  public WorkerConfig withRequestTimeout(Duration d) {
    WorkerConfig c = copy();
    c.requestTimeout = positive(d, "request timeout");
    return c;
  }

  /** SIGTERM to SIGKILL when killing a worker (default {@link #DEFAULT_KILL_GRACE}, 5 s). */
  public WorkerConfig withKillGrace(Duration d) {
    WorkerConfig c = copy();
    c.killGrace = positive(d, "kill grace");
    return c;
  }

  /** Idle time after which a worker is pinged (default {@link #DEFAULT_PING_INTERVAL}, 30 s). */
  public WorkerConfig withPingInterval(Duration d) {
    WorkerConfig c = copy();
    c.pingInterval = positive(d, "ping interval");
    return c;
  }

  /** Restart delays: first, doubling up to max (defaults 1 s and 60 s). */
  public WorkerConfig withRestartBackoff(Duration initial, Duration max) {
    positive(initial, "initial restart backoff");
    positive(max, "max restart backoff");
    check(max.compareTo(initial) >= 0, "max restart backoff %s is below the initial %s", max, initial);
    WorkerConfig c = copy();
    c.backoffInitial = initial;
    c.backoffMax = max;
    return c;
  }

  /**
   * The crash-loop breaker: {@code crashes} worker deaths (or failed restarts) within {@code window}
   * stop the pool with a {@link CrashLoopException} (defaults 5 in 60 s).
   */
  public WorkerConfig withCrashLoop(int crashes, Duration window) {
    check(crashes > 0, "crash-loop crashes must be positive, was %s", crashes);
    WorkerConfig c = copy();
    c.crashLoopCrashes = crashes;
    c.crashLoopWindow = positive(window, "crash-loop window");
    return c;
  }

  /** Replace a worker gracefully after this many requests; 0 never (the default). */
  public WorkerConfig withRecycleAfterRequests(long n) {
    check(n >= 0, "recycle after requests must not be negative, was %s", n);
    WorkerConfig c = copy();
    c.recycleAfterRequests = n;
    return c;
  }

  /** Stop the workers of a pool idle this long; zero never (the default). */
  public WorkerConfig withIdleShutdown(Duration d) {
    check(d != null && !d.isNegative(), "idle shutdown must not be negative, was %s", d);
    WorkerConfig c = copy();
    c.idleShutdown = d;
    return c;
  }

  /** Last stderr lines kept for crash messages (default {@value #DEFAULT_STDERR_LINES}). */
  public WorkerConfig withStderrLines(int n) {
    check(n >= 0, "stderr lines must not be negative, was %s", n);
    WorkerConfig c = copy();
    c.stderrLines = n;
    return c;
  }

  /** Requests queued per worker before a caller waits (default {@value #DEFAULT_QUEUE_CAPACITY}). */
  public WorkerConfig withQueueCapacity(int n) {
    check(n > 0, "queue capacity must be positive, was %s", n);
    WorkerConfig c = copy();
    c.queueCapacity = n;
    return c;
  }

  /** Whether large bodies may travel as REF spill files (default true). */
  public WorkerConfig withSpill(boolean enabled) {
    WorkerConfig c = copy();
    c.spill = enabled;
    return c;
  }

  /** Frame limits and AUTO thresholds (default {@link ProtocolSettings#defaults()}). */
  public WorkerConfig withProtocolSettings(ProtocolSettings settings) {
    check(settings != null, "protocol settings must not be null");
    WorkerConfig c = copy();
    c.protocolSettings = settings;
    return c;
  }

  /** An environment variable for the workers (default none). */
  public WorkerConfig withEnv(String name, String value) {
    nonEmpty(name, "environment variable name");
    check(value != null, "environment variable %s must have a value", name);
    WorkerConfig c = copy();
    Map<String, String> m = new TreeMap<>(env);
    m.put(name, value);
    c.env = Collections.unmodifiableMap(m);
    return c;
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
    Set<String> s = new LinkedHashSet<>(secretNames);
    for (String n : names) {
      s.add(nonEmpty(n, "secret variable name"));
    }
    WorkerConfig c = copy();
    c.secretNames = Collections.unmodifiableSet(s);
    return c;
  }

  /**
   * A {@code setup} command (args {@code {kind, ...}}, e.g. a model to load) run on every worker
   * after its handshake and before its first request, within the setup timeout; a failed setup
   * fails the start. Several are run in order (default none).
   */
  public WorkerConfig withSetup(Map<String, ?> args) {
    check(args != null && args.get("kind") != null, "setup args need a 'kind', were %s", args);
    List<Map<String, Object>> l = new ArrayList<>(setups);
    l.add(Collections.unmodifiableMap(new LinkedHashMap<>(args)));
    WorkerConfig c = copy();
    c.setups = List.copyOf(l);
    return c;
  }

  /** The explicit interpreter, or {@code null}. */
  public String python() {
    return python;
  }

  /** The worker command line; empty: the Python module launch. */
  public List<String> command() {
    return command;
  }

  /** Whether V1 peers are served. */
  public boolean legacyV1Peers() {
    return legacyV1Peers;
  }

  /** The module run with {@code -m}. */
  public String module() {
    return module;
  }

  /** Handler modules for hello. */
  public List<String> handlerModules() {
    return handlerModules;
  }

  /** Extra PYTHONPATH entries. */
  public List<String> pythonPath() {
    return pythonPath;
  }

  /** Workers per pool. */
  public int workers() {
    return workers;
  }

  /** BLAS threads per worker: the setting, else max(1, cores / workers). */
  public int threadsPerWorker() {
    return threadsPerWorker > 0
        ? threadsPerWorker
        : Math.max(1, Runtime.getRuntime().availableProcessors() / workers);
  }

  /** Request threads per worker. */
  public int requestThreads() {
    return requestThreads;
  }

  /** Start (handshake) timeout. */
  public Duration startTimeout() {
    return startTimeout;
  }

  /** Setup timeout. */
  public Duration setupTimeout() {
    return setupTimeout;
  }

  /** Request timeout. */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /** SIGTERM to SIGKILL grace. */
  public Duration killGrace() {
    return killGrace;
  }

  /** Idle ping interval. */
  public Duration pingInterval() {
    return pingInterval;
  }

  /** First restart delay. */
  public Duration restartBackoffInitial() {
    return backoffInitial;
  }

  /** Longest restart delay. */
  public Duration restartBackoffMax() {
    return backoffMax;
  }

  /** Crashes that trip the breaker. */
  public int crashLoopCrashes() {
    return crashLoopCrashes;
  }

  /** The breaker's window. */
  public Duration crashLoopWindow() {
    return crashLoopWindow;
  }

  /** Requests before recycling, 0 never. */
  public long recycleAfterRequests() {
    return recycleAfterRequests;
  }

  /** Idle shutdown, zero never. */
  public Duration idleShutdown() {
    return idleShutdown;
  }

  /** Stderr lines kept. */
  public int stderrLines() {
    return stderrLines;
  }

  /** Writer queue capacity per worker. */
  public int queueCapacity() {
    return queueCapacity;
  }

  /** Whether REF spill files are used. */
  public boolean spill() {
    return spill;
  }

  /** Protocol settings. */
  public ProtocolSettings protocolSettings() {
    return protocolSettings;
  }

  /** Extra environment, secret values included. */
  public Map<String, String> env() {
    return env;
  }

  /** Names of secret environment variables. */
  public Set<String> secretEnvNames() {
    return secretNames;
  }

  /** Setup commands run on every worker. */
  public List<Map<String, Object>> setups() {
    return setups;
  }

  /** The redactor for this configuration's secrets, looked up in {@code inherited} too. */
  Redactor redactor(Map<String, String> inherited) {
    List<String> values = new ArrayList<>();
    for (String n : secretNames) {
      String v = env.containsKey(n) ? env.get(n) : inherited.get(n);
      if (v != null) {
        values.add(v);
      }
    }
    return Redactor.of(values);
  }

  private List<Object> key() {
    return Arrays.asList(
        python, command, legacyV1Peers, module, handlerModules, pythonPath, workers, threadsPerWorker, requestThreads,
        startTimeout, setupTimeout, requestTimeout, killGrace, pingInterval, backoffInitial,
        backoffMax, crashLoopCrashes, crashLoopWindow, recycleAfterRequests, idleShutdown,
        stderrLines, queueCapacity, spill, protocolSettings, env, secretNames, setups);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WorkerConfig && key().equals(((WorkerConfig) o).key());
  }

  @Override
  public int hashCode() {
    return Objects.hash(key().toArray());
  }

  /** Every setting; values of secret variables show as {@code ***}. */
  @Override
  public String toString() {
    Map<String, String> shownEnv = new TreeMap<>();
    env.forEach((k, v) -> shownEnv.put(k, secretNames.contains(k) ? Redactor.MASK : v));
    String shownCommand = command.isEmpty() ? "" : ", command=" + redactor(env).redact(String.valueOf(command))
        + ", legacyV1Peers=" + legacyV1Peers;
    return "WorkerConfig{python=" + python + shownCommand + ", module=" + module + ", handlerModules="
        + handlerModules + ", workers=" + workers + ", threadsPerWorker=" + threadsPerWorker()
        + ", requestThreads=" + requestThreads + ", startTimeout=" + startTimeout
        + ", setupTimeout=" + setupTimeout + ", requestTimeout=" + requestTimeout + ", env="
        + shownEnv + ", secretEnvNames=" + secretNames + "}";
  }
}
