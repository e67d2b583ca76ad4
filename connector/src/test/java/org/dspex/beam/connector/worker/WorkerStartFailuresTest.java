package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.protocol.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workers that never come up (they die while loading their model) fail their pool after {@link
 * WorkerConfig#withMaxStartFailures} starts in a row, with the last one's end and stderr; started
 * workers that die keep counting towards the crash-loop breaker instead.
 */
class WorkerStartFailuresTest {
  /** The crash-loop breaker as the transforms size it for a batch of 64 (bisection needs room). */
  private static final int TRANSFORMS_CRASH_LOOP = 19;

  @TempDir Path dir;

  /**
   * A handler module with the setup kind {@code exit_on_setup}: it exits with status 7 during the
   * setups whose number (0, 1, ...; counted in a file) is in {@code failing}, and loads otherwise.
   */
  private WorkerConfig exitOnSetup(String failing) throws IOException {
    Files.writeString(dir.resolve("exit_on_setup.py"), String.join("\n",
        "import os, sys",
        "from dspex_worker.handlers import Loaded, register_setup",
        "",
        "@register_setup('exit_on_setup')",
        "def load(ctx):",
        "    counter = os.path.join(os.path.dirname(__file__), 'setups')",
        "    n = int(open(counter).read()) if os.path.exists(counter) else 0",
        "    open(counter, 'w').write(str(n + 1))",
        "    if n in (" + failing + "):",
        "        sys.stderr.write(f'exit_on_setup: setup {n} cannot load the model\\n')",
        "        sys.stderr.flush()",
        "        os._exit(7)",
        "    return Loaded(n, {'setup': n})",
        ""));
    return WorkerTestSupport.config()
        .withPythonPath(WorkerTestSupport.testingPythonPath(), dir.toString())
        .withHandlerModules(WorkerTestSupport.TEST_HANDLERS, "exit_on_setup")
        .withSetup(Map.of("kind", "exit_on_setup"))
        .withCrashLoop(TRANSFORMS_CRASH_LOOP, Duration.ofSeconds(60));
  }

  private int setupsRun() throws IOException {
    return Integer.parseInt(Files.readString(dir.resolve("setups")).trim());
  }

  @Test
  void givenAWorkerThatDiesDuringEverySetup_thenThePoolFailsAfterThreeStartsNamingTheExitAndStderr()
      throws Exception {
    // The restart backoff of the command (1 s, doubling): crashes too sparse for any crash-loop
    // window, so without a count of failed starts this pool restarted its worker forever.
    WorkerConfig config = exitOnSetup("range(1000)")
        .withRestartBackoff(WorkerConfig.DEFAULT_RESTART_BACKOFF_INITIAL, WorkerConfig.DEFAULT_RESTART_BACKOFF_MAX);
    long t0 = System.nanoTime();
    WorkerStartException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
        () -> assertThrows(WorkerStartException.class, () -> WorkerPools.acquire(config)));
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
    assertEquals(WorkerStartException.Reason.EXITED, e.reason());
    String m = e.getMessage();
    assertTrue(m.matches("(?s)3 worker starts in a row failed \\(WorkerConfig.withMaxStartFailures\\); the last one died"
        + " during start/setup: worker 3 \\(pid \\d+\\): setup exit_on_setup"
        + " failed: worker 3 \\(pid \\d+\\) exited with exit code 7 during request 1 'setup' after .*;"
        + " last stderr lines:.*exit_on_setup: setup 2 cannot load the model.*"), m);
    assertEquals(3, setupsRun());
    assertTrue(seconds < 30, "failed after " + seconds + " s (backoff 1 s + 2 s)");
    assertEquals(0, WorkerPools.size());
  }

  @Test
  void givenAWorkerThatDiesBeforeHello_thenThePoolFailsAfterThreeStarts() {
    WorkerConfig config = WorkerTestSupport.config()
        .withModule("dspex_testing.die_at_start")
        .withCrashLoop(TRANSFORMS_CRASH_LOOP, Duration.ofSeconds(60));
    WorkerStartException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
        () -> assertThrows(WorkerStartException.class, () -> WorkerPool.create(config)));
    assertTrue(e.getMessage().startsWith("3 worker starts in a row failed (WorkerConfig.withMaxStartFailures); the"
        + " last one died during start/setup: worker 3 (pid "), e.getMessage());
    assertTrue(e.getMessage().contains("exited before answering hello (exit code 3); last stderr lines:"), e.getMessage());
    assertTrue(e.getMessage().contains("die_at_start: exiting at once"), e.getMessage());
  }

  @Test
  void givenAWorkerThatCompletesItsSetup_thenTheCountOfFailedStartsStartsAgain() throws Exception {
    // Setups 0 and 1 fail, 2 loads; after that worker is killed, 3, 4 and 5 fail.
    WorkerConfig config = exitOnSetup("0, 1, 3, 4, 5");
    try (WorkerPool pool = WorkerPool.create(config)) {
      assertEquals(3, setupsRun());
      ProcessHandle.of(pool.pids().get(0)).orElseThrow().destroyForcibly();
      assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
        while (pool.failure() == null) {
          Thread.sleep(20);
        }
      });
      WorkerStartException e = assertInstanceOf(WorkerStartException.class, pool.failure());
      assertTrue(e.getMessage().startsWith("3 worker starts in a row failed"), e.getMessage());
      assertTrue(e.getMessage().contains("exit_on_setup: setup 5 cannot load the model"), e.getMessage());
      assertEquals(6, setupsRun(), "five failed starts in all, never three in a row before the last");
      assertEquals(1, pool.stats().workerCrashes(), "the killed worker; failed starts are not crashes");
    }
  }

  @Test
  void givenStartedWorkersKilledByTheirRequests_thenTheCrashLoopBreakerTrips() throws Exception {
    WorkerConfig config = WorkerTestSupport.config().withCrashLoop(3, Duration.ofSeconds(60));
    try (WorkerPool pool = WorkerPool.create(config)) {
      for (int i = 1; i <= 3; i++) {
        ExecutionException x = assertThrows(ExecutionException.class,
            () -> pool.submit(Request.of("crash").withArg("exit_code", 9)).get(30, TimeUnit.SECONDS));
        assertInstanceOf(WorkerCrashedException.class, x.getCause());
      }
      // The pool learns of the death just after the requests on the worker failed.
      PythonWorkerTest.waitFor(() -> pool.failure() != null);
      CrashLoopException e = assertInstanceOf(CrashLoopException.class, pool.failure());
      assertTrue(e.getMessage().startsWith("workers died 3 times within 60.0 s (WorkerConfig.withCrashLoop): the pool"
          + " stopped restarting them; the last one: worker 3 (pid "), e.getMessage());
      assertTrue(e.getMessage().contains("exited with exit code 9; last stderr lines:"), e.getMessage());
      assertTrue(e.getMessage().contains("crashing as asked (exit_code=9"), e.getMessage());
      assertEquals(3, pool.stats().workerStarts(), "every restart came up: failed starts were not the cause");
    }
  }
}
