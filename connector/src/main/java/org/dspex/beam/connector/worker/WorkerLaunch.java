package org.dspex.beam.connector.worker;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.environment.EnvironmentSetupException;

/**
 * The command line and environment of one worker process, from a {@link WorkerConfig}: the Python
 * module launch, or the configured {@link WorkerConfig#withCommand command}, with the same
 * environment either way.
 *
 * <p>The interpreter runs a short preflight ({@code -c}) before the worker module: it checks the
 * Python version and that numpy, pyarrow, msgpack and the module can be found, without importing
 * them, and says what is missing in one line ({@code dspex-preflight: missing-packages numpy}).
 * Why: an old interpreter would otherwise fail with a syntax error deep in the worker code, and a
 * missing package with a traceback from wherever it was first imported. The preflight is written
 * for any Python, so that it can report even a Python 2. Then it runs the module exactly as
 * {@code python -m} does. A configured command runs as it is, without the preflight.
 */
final class WorkerLaunch {
  /** Prefix of the preflight's diagnosis line on stderr. */
  static final String PREFLIGHT = "dspex-preflight: ";
  /** Exit status of a failed preflight (EX_CONFIG). */
  static final int PREFLIGHT_EXIT = 78;
  static final String REQUIRED_PYTHON = "3.11";
  /**
   * Names the worker's private temporary directory in its environment (in this JVM's {@link
   * ScratchRoot}); the worker keeps its temporary files there (its default DSPy cache), and the
   * directory is deleted when the worker process ends.
   */
  static final String TEMP_DIR_ENV = "DSPEX_WORKER_TMPDIR";

  /** Where DSPy keeps its disk cache unless setup's {@code cache_dir} names one. */
  static final String LM_CACHE_ENV = "DSPY_CACHEDIR";

  /** The folder of the JVM's scratch root that all its workers' DSPy caches share by default. */
  static final String SHARED_LM_CACHE = "dspy-cache";

  private static final String BOOTSTRAP =
      String.join(
          "\n",
          "import sys",
          "m = sys.argv[1]",
          "if sys.version_info < (3, 11):",
          "    sys.stderr.write('" + PREFLIGHT + "python-too-old %s\\n' % '.'.join([str(x) for x in sys.version_info[:3]]))",
          "    sys.exit(" + PREFLIGHT_EXIT + ")",
          "import importlib.util",
          "def found(name):",
          "    try:",
          "        return importlib.util.find_spec(name) is not None",
          "    except ImportError:",
          "        return False",
          "missing = [p for p in ('numpy', 'pyarrow', 'msgpack') if not found(p)]",
          "if missing:",
          "    sys.stderr.write('" + PREFLIGHT + "missing-packages %s\\n' % ' '.join(missing))",
          "    sys.exit(" + PREFLIGHT_EXIT + ")",
          "if not found(m):",
          "    sys.stderr.write('" + PREFLIGHT + "no-module %s\\n' % m)",
          "    sys.exit(" + PREFLIGHT_EXIT + ")",
          "import runpy",
          "sys.argv = [m] + sys.argv[2:]",
          "runpy.run_module(m, run_name='__main__', alter_sys=True)",
          "");

  /** The interpreter of a module launch, or the program of a command. */
  final String interpreter;
  /** What runs, for messages: {@code Python interpreter X, module Y}, or {@code worker command [...]}. */
  final String description;
  /** What to say when it cannot be run: {@code Python interpreter X}, or the command. */
  final String program;
  final ProcessBuilder builder;
  final Redactor redactor;
  /** The worker's temporary directory ({@link #TEMP_DIR_ENV}); whoever starts the process deletes it. */
  final Path tempDir;

  private WorkerLaunch(String interpreter, String description, String program, ProcessBuilder builder,
      Redactor redactor, Path tempDir) {
    this.interpreter = interpreter;
    this.description = description;
    this.program = program;
    this.builder = builder;
    this.redactor = redactor;
    this.tempDir = tempDir;
  }

  /** The launch of worker {@code id}; makes its temporary directory last, when nothing can fail after. */
  static WorkerLaunch of(WorkerConfig config, int id) throws WorkerStartException {
    List<String> command = config.command();
    String python = command.isEmpty() ? resolveInterpreter(config) : command.get(0);
    Path bundled;
    try {
      bundled = BundledPython.directory();
    } catch (IOException e) {
      throw new WorkerStartException(
          WorkerStartException.Reason.VERSION_MISMATCH,
          "cannot unpack the connector's Python worker code: " + e.getMessage(), e);
    }
    ProcessBuilder pb = command.isEmpty()
        ? new ProcessBuilder(python, "-c", BOOTSTRAP, config.module())
        : new ProcessBuilder(command);
    Map<String, String> env = pb.environment();
    Redactor redactor = config.redactor(Map.copyOf(env));
    String threads = Integer.toString(config.threadsPerWorker());
    env.put("OMP_NUM_THREADS", threads);
    env.put("MKL_NUM_THREADS", threads);
    env.put("OPENBLAS_NUM_THREADS", threads);
    env.put("PYTHONUNBUFFERED", "1");
    List<String> path = new ArrayList<>();
    path.add(bundled.toString());
    path.addAll(config.pythonPath());
    env.putAll(config.env());
    // After the user env: the bundled code must come first whatever PYTHONPATH the user set.
    String userPath = config.env().get("PYTHONPATH");
    if (userPath != null && !userPath.isEmpty()) {
      path.add(userPath);
    }
    env.put("PYTHONPATH", String.join(File.pathSeparator, path));
    String program = command.isEmpty() ? "Python interpreter " + python : redactor.redact("worker command " + command);
    String description = command.isEmpty() ? program + ", module " + config.module() : program;
    Path temp;
    Path sharedLmCache;
    try {
      temp = ScratchRoot.onDisk().newDirectory("worker-" + id + "-");
      sharedLmCache = ScratchRoot.onDisk().path().resolve(SHARED_LM_CACHE);
    } catch (IOException e) {
      throw new WorkerStartException(WorkerStartException.Reason.EXITED,
          "cannot make a temporary directory for worker " + id + ": " + e.getMessage(), e);
    }
    env.put(TEMP_DIR_ENV, temp.toString());
    if (!env.containsKey(LM_CACHE_ENV) || env.get(LM_CACHE_ENV).isEmpty()) {
      // One DSPy cache for every worker of this JVM, not one per worker: a worker started again after
      // a crash or a stall finds the answers its predecessor paid for. It goes with the JVM's root.
      env.put(LM_CACHE_ENV, sharedLmCache.toString());
    }
    return new WorkerLaunch(python, description, program, pb, redactor, temp);
  }

  private static String resolveInterpreter(WorkerConfig config) throws WorkerStartException {
    String python = config.python();
    String source = "withPython(...)";
    if (python == null) {
      python = System.getenv(WorkerConfig.PYTHON_ENV);
      source = "$" + WorkerConfig.PYTHON_ENV;
    }
    if ((python == null || python.isBlank()) && config.environment().enabled()) {
      try {
        return config.environment().interpreter().toString();
      } catch (EnvironmentSetupException e) {
        throw new WorkerStartException(WorkerStartException.Reason.ENVIRONMENT_FAILED, e.getMessage(), e);
      }
    }
    if (python == null || python.isBlank()) {
      throw new WorkerStartException(
          WorkerStartException.Reason.NO_INTERPRETER_CONFIGURED,
          "no Python interpreter configured for the DSPex workers and the managed venv is off"
              + " (PythonEnvironment.none()): call WorkerConfig.withPython(path)"
              + " or set the environment variable " + WorkerConfig.PYTHON_ENV
              + " to a Python " + REQUIRED_PYTHON + "+ with numpy, pyarrow and msgpack",
          null);
    }
    Path p = Path.of(python);
    if (p.getParent() != null && !Files.isExecutable(p)) {
      throw new WorkerStartException(
          WorkerStartException.Reason.INTERPRETER_NOT_FOUND,
          "Python interpreter " + python + " (from " + source + ") "
              + (Files.exists(p) ? "is not executable" : "does not exist"),
          null);
    }
    return python;
  }
}
