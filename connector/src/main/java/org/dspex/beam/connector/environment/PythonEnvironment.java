package org.dspex.beam.connector.environment;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Where the workers' Python comes from when no interpreter is configured: a venv the connector builds
 * itself on first use, from a hash-pinned lock file bundled in the connector jar, in a per-user cache.
 *
 * <p>The first use on a machine runs {@code python3 -m venv} and {@code pip install --require-hashes
 * --no-deps --only-binary=:all:} from the lock of the chosen {@link Extra} into {@code
 * <cache>/venv-<hash of the lock>}, logging pip's progress; later uses (any JVM, any pipeline) find it
 * ready and start at once. A file lock makes several JVMs or DoFns that start together build it once;
 * a venv is used only after its build completed (a marker written last), so a half-built or damaged one
 * is removed and rebuilt, and a changed lock file makes a new venv. The venv may hold only the {@code
 * .pth} files its lock's {@code # expected-pth:} line lists (a {@code .pth} file runs code at every
 * interpreter start; poisoned releases used one).
 *
 * <pre>{@code
 * WorkerConfig config = WorkerConfig.create()           // no withPython, no $DSPEX_PYTHON:
 *     .withEnvironment(PythonEnvironment.managed()
 *         .withExtra(PythonEnvironment.Extra.EMBED)      // only the embedding stack
 *         .withWheelDir("/mnt/wheels"));                 // offline: pip --no-index --find-links
 * }</pre>
 *
 * <p>The cache root is {@link #withCacheDir}, else {@code $DSPEX_CACHE_DIR}, else {@code
 * $XDG_CACHE_HOME/dspex}, else {@code ~/.cache/dspex}. The venv is created by {@link
 * #withBootstrapPython}, else {@code $DSPEX_BOOTSTRAP_PYTHON}, else the first of {@code python3.13},
 * {@code python3.12}, {@code python3.11}, {@code python3} on the {@code PATH} that is 3.11 or newer.
 * {@link #none()} turns the managed venv off: then a worker without an interpreter fails to start
 * with a message saying what to set. Serializable: the settings travel with a pipeline and the venv is
 * built on each machine where workers start (each Flink TaskManager has its own cache).
 */
@AutoValue
public abstract class PythonEnvironment implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Longest wait for the venv to be built, by this JVM or another one (pip downloads included). */
  public static final Duration DEFAULT_BUILD_TIMEOUT = Duration.ofMinutes(20);
  /** Environment variable naming the cache root. */
  public static final String CACHE_DIR_ENV = "DSPEX_CACHE_DIR";
  /** Environment variable naming the interpreter that creates the venv. */
  public static final String BOOTSTRAP_PYTHON_ENV = "DSPEX_BOOTSTRAP_PYTHON";

  /** Which packages the venv holds: one resolution, three hash-pinned lock files. */
  public enum Extra {
    /** Everything: DSPy and the embedding stack ({@code requirements.lock}). */
    ALL("requirements.lock"),
    /** DSPy and its LM client, for predict, trainset, optimize and remote embeddings. */
    PREDICT("requirements-predict.lock"),
    /** The local embedding model and its runtime, no DSPy. */
    EMBED("requirements-embed.lock");

    private final String lockFile;

    Extra(String lockFile) {
      this.lockFile = lockFile;
    }

    /** The lock file's name in the connector jar's {@code dspex-python/} folder. */
    public String lockFile() {
      return lockFile;
    }
  }

  PythonEnvironment() {}

  /** The managed venv with every default: extra {@link Extra#ALL}, the per-user cache. */
  public static PythonEnvironment managed() {
    return new AutoValue_PythonEnvironment(true, Extra.ALL, "", "", List.of(), "", DEFAULT_BUILD_TIMEOUT);
  }

  /** No managed venv: the interpreter must be configured. */
  public static PythonEnvironment none() {
    return new AutoValue_PythonEnvironment(false, Extra.ALL, "", "", List.of(), "", DEFAULT_BUILD_TIMEOUT);
  }

  /** Whether the connector builds a venv when no interpreter is configured. */
  public abstract boolean enabled();

  /** The lock file the venv is built from. */
  public abstract Extra extra();

  abstract String cacheDirSetting();

  abstract String bootstrapPythonSetting();

  /** Extra arguments of {@code pip install} (e.g. {@code --index-url}, a proxy). */
  public abstract List<String> pipArgs();

  abstract String wheelDirSetting();

  /** Longest wait for the venv, building or waiting for another process to build it. */
  public abstract Duration buildTimeout();

  /** Builds the venv from {@code extra}'s lock file (default {@link Extra#ALL}). */
  public PythonEnvironment withExtra(Extra extra) {
    check(extra != null, "extra must not be null");
    return copy(enabled(), extra, cacheDirSetting(), bootstrapPythonSetting(), pipArgs(), wheelDirSetting(),
        buildTimeout());
  }

  /** The cache root (default: {@code $DSPEX_CACHE_DIR}, {@code $XDG_CACHE_HOME/dspex}, {@code ~/.cache/dspex}). */
  public PythonEnvironment withCacheDir(String dir) {
    return copy(enabled(), extra(), nonEmpty(dir, "cache dir"), bootstrapPythonSetting(), pipArgs(),
        wheelDirSetting(), buildTimeout());
  }

  /** The interpreter that creates the venv, Python 3.11 or newer (default: see the class doc). */
  public PythonEnvironment withBootstrapPython(String interpreter) {
    return copy(enabled(), extra(), cacheDirSetting(), nonEmpty(interpreter, "bootstrap python"), pipArgs(),
        wheelDirSetting(), buildTimeout());
  }

  /** Extra {@code pip install} arguments, e.g. {@code "--index-url", "https://mirror/simple"} (default none). */
  public PythonEnvironment withPipArgs(String... args) {
    check(args != null, "pip args must not be null");
    List<String> list = List.copyOf(Arrays.asList(args));
    list.forEach(a -> nonEmpty(a, "pip arg"));
    return copy(enabled(), extra(), cacheDirSetting(), bootstrapPythonSetting(), list, wheelDirSetting(),
        buildTimeout());
  }

  /**
   * Installs from a folder of wheels instead of the package index ({@code pip --no-index --find-links}),
   * for machines without access to PyPI (default: the index). {@code pip download --require-hashes
   * --no-deps --only-binary=:all: -r <lock> -d <folder>} fills it on a machine that has access.
   */
  public PythonEnvironment withWheelDir(String dir) {
    return copy(enabled(), extra(), cacheDirSetting(), bootstrapPythonSetting(), pipArgs(),
        nonEmpty(dir, "wheel dir"), buildTimeout());
  }

  /** Longest wait for the venv (default {@link #DEFAULT_BUILD_TIMEOUT}). */
  public PythonEnvironment withBuildTimeout(Duration timeout) {
    check(timeout != null && !timeout.isNegative() && !timeout.isZero(), "build timeout must be positive, was %s",
        timeout);
    return copy(enabled(), extra(), cacheDirSetting(), bootstrapPythonSetting(), pipArgs(), wheelDirSetting(),
        timeout);
  }

  /** The cache root on this machine. */
  public Path cacheDir() {
    return CacheDir.resolve(cacheDirSetting());
  }

  /** The explicit bootstrap interpreter, or {@code null}. */
  public String bootstrapPython() {
    return bootstrapPythonSetting().isEmpty() ? null : bootstrapPythonSetting();
  }

  /** The wheel folder, or {@code null} for the package index. */
  public String wheelDir() {
    return wheelDirSetting().isEmpty() ? null : wheelDirSetting();
  }

  /**
   * The venv's interpreter, building the venv first when this machine has none for the lock yet
   * (blocking; at most {@link #buildTimeout()}).
   *
   * @throws EnvironmentSetupException when the venv cannot be built: the message says why and what to set
   */
  public Path interpreter() throws EnvironmentSetupException {
    check(enabled(), "the managed environment is off (PythonEnvironment.none())");
    return ManagedVenvs.ensure(this, BundledLock.load(extra())).python();
  }

  private static PythonEnvironment copy(boolean enabled, Extra extra, String cacheDir, String bootstrap,
      List<String> pipArgs, String wheelDir, Duration timeout) {
    return new AutoValue_PythonEnvironment(enabled, extra, cacheDir, bootstrap, pipArgs, wheelDir, timeout);
  }

  private static void check(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }

  private static String nonEmpty(String s, String what) {
    check(s != null && !s.isBlank(), "%s must not be empty, was %s", what, s == null ? null : "'" + s + "'");
    return s;
  }
}
