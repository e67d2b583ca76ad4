package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.environment.PythonEnvironment;
import org.dspex.beam.connector.worker.WorkerStartException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start failures: each a clear message naming the interpreter and what to do, not a stack trace. */
class WorkerStartTest {
  /** Debian's pypy3 is a Python 3.9: CI installs it (.ci/run). */
  static final String OLD_PYTHON = "/usr/bin/pypy3";

  private static WorkerStartException startFails(WorkerConfig config) {
    return assertThrows(WorkerStartException.class, () -> PythonWorker.start(config, 7, new WorkerStats()).close());
  }

  @Test
  void givenNonExistentInterpreter_thenStartErrorNamesIt() {
    WorkerStartException e = startFails(WorkerTestSupport.config().withPython("/nonexistent/bin/python3"));
    assertEquals(Reason.INTERPRETER_NOT_FOUND, e.reason());
    assertEquals("Python interpreter /nonexistent/bin/python3 (from withPython(...)) does not exist", e.getMessage());
  }

  @Test
  void givenNoInterpreterConfigured_thenStartErrorSaysWhatToSet() {
    assumeTrue(System.getenv(WorkerConfig.PYTHON_ENV) == null, "DSPEX_PYTHON is set here");
    WorkerStartException e = startFails(WorkerConfig.create().withEnvironment(PythonEnvironment.none()));
    assertEquals(Reason.NO_INTERPRETER_CONFIGURED, e.reason());
    assertTrue(e.getMessage().contains("WorkerConfig.withPython(path) or set the environment variable DSPEX_PYTHON"),
        e.getMessage());
  }

  @Test
  void givenNoInterpreterAndAManagedVenvThatCannotBeBuilt_thenStartErrorSaysWhy() throws Exception {
    assumeTrue(System.getenv(WorkerConfig.PYTHON_ENV) == null, "DSPEX_PYTHON is set here");
    Path cache = Files.createTempDirectory("dspex-env-");
    WorkerStartException e = startFails(WorkerConfig.create().withEnvironment(PythonEnvironment.managed()
        .withCacheDir(cache.toString()).withBootstrapPython("/nonexistent/python3.11")));
    assertEquals(Reason.ENVIRONMENT_FAILED, e.reason());
    assertEquals("/nonexistent/python3.11 (from PythonEnvironment.withBootstrapPython) is not a runnable Python;"
        + " the workers' venv needs Python 3.11 or newer", e.getMessage());
  }

  @Test
  void givenModuleThatDoesNotExist_thenStartErrorNamesModuleAndInterpreter() {
    WorkerStartException e = startFails(WorkerTestSupport.config().withModule("dspex_worker.no_such_module"));
    assertEquals(Reason.MISSING_PACKAGE, e.reason());
    assertEquals("module dspex_worker.no_such_module cannot be found by Python interpreter "
        + WorkerTestSupport.python() + " (PYTHONPATH: bundled worker code, then ["
        + WorkerTestSupport.testingPythonPath() + "]): check"
        + " WorkerConfig.withModule(...) and withPythonPath(...)", e.getMessage());
  }

  @Test
  void givenVenvWithoutNumpy_thenStartErrorSaysWhatToInstall(@TempDir Path dir) throws Exception {
    Path venv = dir.resolve("bare");
    Process p = new ProcessBuilder("/usr/bin/python3", "-m", "venv", "--without-pip", venv.toString())
        .inheritIO().start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "python3 -m venv failed");
    String python = venv.resolve("bin/python").toString();
    WorkerStartException e = startFails(WorkerTestSupport.config().withPython(python));
    assertEquals(Reason.MISSING_PACKAGE, e.reason());
    assertTrue(e.getMessage().startsWith("Python interpreter " + python + " lacks numpy, pyarrow, msgpack,"
        + " which DSPex workers need: " + python + " -m pip install --require-hashes -r /"), e.getMessage());
    assertTrue(e.getMessage().endsWith("requirements.lock"), e.getMessage());
  }

  @Test
  void givenPythonOlderThan311_thenStartErrorNamesVersionAndInterpreter() {
    assertTrue(Files.isExecutable(Path.of(OLD_PYTHON)),
        OLD_PYTHON + " (a Python 3.9) is missing: apt-get install -y pypy3 (see .ci/run)");
    WorkerStartException e = startFails(WorkerTestSupport.config().withPython(OLD_PYTHON));
    assertEquals(Reason.INTERPRETER_TOO_OLD, e.reason());
    assertTrue(e.getMessage().matches("Python interpreter /usr/bin/pypy3 is Python 3\\.9\\.\\d+; DSPex workers need"
        + " Python 3\\.11 or newer: point WorkerConfig\\.withPython\\(\\.\\.\\.\\) or DSPEX_PYTHON at one"), e.getMessage());
  }

  @Test
  void givenBannerOnStdoutBeforeTheChannel_thenProtocolErrorShowsTheFirstBytes() {
    WorkerStartException e = startFails(WorkerTestSupport.config().withModule("dspex_testing.banner"));
    assertEquals(Reason.PROTOCOL_ERROR, e.reason());
    assertTrue(e.getMessage().contains("wrote something else than protocol frames on its stdout"), e.getMessage());
    assertTrue(e.getMessage().contains("|Loading model weights...|") || e.getMessage().contains("|Loading model"),
        e.getMessage());
    assertTrue(e.getMessage().contains("4c 6f 61 64"), e.getMessage());
  }

  @Test
  void givenWorkerCodeOfAnotherVersion_thenRefusedAtStartNamingBothVersions() {
    WorkerStartException e = startFails(WorkerTestSupport.config().withModule("dspex_testing.other_version"));
    assertEquals(Reason.VERSION_MISMATCH, e.reason());
    assertTrue(e.getMessage().matches("worker \\d+ \\(pid \\d+\\) runs worker code version 0\\.0\\.9 but the connector is"
        + " version 0\\.1\\.0: module dspex_testing\\.other_version was found somewhere else than in the connector"
        + " jar \\(check withPythonPath and PYTHONPATH\\)"), e.getMessage());
  }

  @Test
  void givenWorkerDyingAtStart_thenStartErrorHasExitCodeAndStderr() {
    WorkerStartException e = startFails(WorkerTestSupport.config().withModule("dspex_testing.die_at_start"));
    assertEquals(Reason.EXITED, e.reason());
    assertTrue(e.getMessage().contains("exited before answering hello (exit code 3); last stderr lines:"), e.getMessage());
    assertTrue(e.getMessage().contains("die_at_start: exiting at once"), e.getMessage());
  }

  @Test
  void givenHandlerModuleThatDoesNotImport_thenStartErrorIsClear() {
    WorkerStartException e = startFails(WorkerConfig.create().withPython(WorkerTestSupport.python())
        .withHandlerModules("no_such_handlers_module"));
    assertEquals(Reason.REFUSED, e.reason());
    assertTrue(e.getMessage().contains("handler modules [no_such_handlers_module]) refused hello: "), e.getMessage());
    assertTrue(e.getMessage().contains("exited with exit code 3"), e.getMessage());
  }
}
