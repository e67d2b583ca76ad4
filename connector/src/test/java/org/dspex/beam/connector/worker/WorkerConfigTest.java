package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.protocol.ProtocolSettings;
import org.junit.jupiter.api.Test;

/** Settings, and the small pure pieces of supervision: no processes here. */
class WorkerConfigTest {
  @Test
  void givenBadArguments_thenWithMethodsFailAtOnceNamingTheSetting() {
    WorkerConfig c = WorkerConfig.create();
    assertEquals("workers must be positive, was 0",
        assertThrows(IllegalArgumentException.class, () -> c.withWorkers(0)).getMessage());
    assertEquals("request timeout must be positive, was PT-1S",
        assertThrows(IllegalArgumentException.class, () -> c.withRequestTimeout(Duration.ofSeconds(-1))).getMessage());
    assertEquals("max restart backoff PT1S is below the initial PT2S",
        assertThrows(IllegalArgumentException.class,
            () -> c.withRestartBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1))).getMessage());
    assertEquals("module must not be empty, was ' '",
        assertThrows(IllegalArgumentException.class, () -> c.withModule(" ")).getMessage());
    assertThrows(IllegalArgumentException.class, () -> c.withSetup(Map.of("value", 1)));
    assertThrows(IllegalArgumentException.class, () -> c.withCrashLoop(0, Duration.ofSeconds(1)));
    assertEquals("max start failures must be positive, was 0",
        assertThrows(IllegalArgumentException.class, () -> c.withMaxStartFailures(0)).getMessage());
    assertEquals("stall timeout must not be negative, was PT-1S",
        assertThrows(IllegalArgumentException.class, () -> c.withStallTimeout(Duration.ofSeconds(-1))).getMessage());
  }

  @Test
  void givenDefaults_thenConstantsAndDerivedThreads() {
    WorkerConfig c = WorkerConfig.create();
    assertEquals(WorkerConfig.DEFAULT_MODULE, c.module());
    assertEquals(WorkerConfig.DEFAULT_REQUEST_TIMEOUT, c.requestTimeout());
    assertEquals(WorkerConfig.DEFAULT_MAX_START_FAILURES, c.maxStartFailures());
    assertEquals(WorkerConfig.DEFAULT_STALL_TIMEOUT, c.stallTimeout());
    assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors() / 2), c.withWorkers(2).threadsPerWorker());
    assertEquals(3, c.withThreadsPerWorker(3).threadsPerWorker());
  }

  @Test
  void givenEqualSettings_thenEqualConfigs_andSecretsNeverInToString() {
    WorkerConfig a = WorkerConfig.create().withWorkers(2).withSecretEnv("API_KEY", "s3cret-value");
    WorkerConfig b = WorkerConfig.create().withWorkers(2).withSecretEnv("API_KEY", "s3cret-value");
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertNotEquals(a, b.withWorkers(3));
    assertFalse(a.toString().contains("s3cret"), a.toString());
    assertTrue(a.toString().contains("API_KEY=***"), a.toString());
    assertEquals("s3cret-value", a.env().get("API_KEY"));
  }

  @Test
  void givenEverySetting_thenSerializedCopyIsEqualAndKeysTheSamePool() throws Exception {
    WorkerConfig c = WorkerConfig.create().withPython("/opt/py").withCommand(List.of("/opt/bridge", "--v1"))
        .withLegacyV1Peers(true).withModule("m").withHandlerModules("h").withPythonPath("/p").withWorkers(2)
        .withThreadsPerWorker(3).withRequestThreads(5).withStartTimeout(Duration.ofSeconds(7))
        .withSetupTimeout(Duration.ofSeconds(8)).withRequestTimeout(Duration.ofSeconds(9))
        .withKillGrace(Duration.ofSeconds(2)).withPingInterval(Duration.ofSeconds(4))
        .withRestartBackoff(Duration.ofMillis(10), Duration.ofMillis(20)).withCrashLoop(7, Duration.ofSeconds(70))
        .withMaxStartFailures(6).withStallTimeout(Duration.ofSeconds(3))
        .withRecycleAfterRequests(11).withIdleShutdown(Duration.ofSeconds(12)).withStderrLines(13)
        .withQueueCapacity(14).withSpill(false)
        .withProtocolSettings(ProtocolSettings.defaults().withJsonMaxRecords(1))
        .withEnv("PLAIN", "v").withSecretEnvNames("FROM_JVM").withSetup(Map.of("kind", "k", "args", List.of(1, 2)));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(c);
    }
    Object copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = in.readObject();
    }
    assertEquals(c, copy);
    assertEquals(c.hashCode(), copy.hashCode());
    assertEquals(c.toString(), copy.toString());
    // Each setting counts for equality, the new ones included.
    assertNotEquals(c, c.withLegacyV1Peers(false));
    assertNotEquals(c, c.withCommand(List.of("/opt/bridge")));
    assertNotEquals(c, c.withQueueCapacity(15));
    assertNotEquals(c, c.withMaxStartFailures(5));
    assertNotEquals(c, c.withStallTimeout(Duration.ZERO));
    assertNotEquals(WorkerConfig.create(), WorkerConfig.create().withThreadsPerWorker(
        WorkerConfig.create().threadsPerWorker()));
  }

  @Test
  void givenSecretInACommandLine_thenMaskedInToString() {
    WorkerConfig c = WorkerConfig.create().withSecretEnv("TOKEN", "tok-123456").withCommand(List.of("bridge", "tok-123456"));
    assertFalse(c.toString().contains("tok-123456"), c.toString());
    assertTrue(c.toString().contains("command=[bridge, ***]"), c.toString());
  }

  @Test
  void givenSecrets_thenRedactorMasksLongestFirst() {
    Redactor r = Redactor.of(List.of("abc", "abcdef"));
    assertEquals("key *** and ***", r.redact("key abcdef and abc"));
    assertEquals("nothing", Redactor.of(List.of()).redact("nothing"));
  }

  @Test
  void givenExitValues_thenSignalNames() {
    assertEquals("SIGKILL / exit code 137", ExitStatus.describe(137));
    assertEquals("SIGSEGV / exit code 139", ExitStatus.describe(139));
    assertEquals("exit code 3", ExitStatus.describe(3));
  }

  @Test
  void givenCrashes_thenBackoffDoublesToItsCapAndBreakerTripsInItsWindow() {
    Duration i = Duration.ofMillis(100);
    Duration m = Duration.ofMillis(700);
    assertEquals(100_000_000L, RestartBackoff.delayNanos(i, m, 1));
    assertEquals(400_000_000L, RestartBackoff.delayNanos(i, m, 3));
    assertEquals(700_000_000L, RestartBackoff.delayNanos(i, m, 10));
    CrashLoopBreaker b = new CrashLoopBreaker(3, Duration.ofSeconds(10));
    long s = 1_000_000_000L;
    assertFalse(b.record(0));
    assertFalse(b.record(5 * s));
    assertFalse(b.record(11 * s)); // the first fell out of the window
    assertTrue(b.record(12 * s));
  }

  @Test
  void givenFailedStarts_thenThePolicyGivesUpAtTheThirdInARowAndAWorkerThatCameUpResetsTheCount() {
    RestartPolicy p = new RestartPolicy(WorkerConfig.create());
    WorkerStartException exited = new WorkerStartException(WorkerStartException.Reason.EXITED, "worker 1 exited", null);
    assertEquals(null, p.startFailed(exited));
    assertEquals(null, p.startFailed(exited));
    p.started();
    assertEquals(null, p.startFailed(exited));
    assertEquals(null, p.startFailed(exited));
    WorkerStartException e = p.startFailed(exited);
    assertEquals(WorkerStartException.Reason.EXITED, e.reason());
    assertEquals("3 worker starts in a row failed (WorkerConfig.withMaxStartFailures); the last one died during"
        + " start/setup: worker 1 exited", e.getMessage());
    assertEquals(exited, e.getCause());
    // Deaths of started workers are the breaker's: five within 60 s by default.
    RestartPolicy q = new RestartPolicy(WorkerConfig.create());
    WorkerCrashedException died = new WorkerCrashedException("worker 2 died", null);
    for (int i = 0; i < 4; i++) {
      assertEquals(null, q.crashed(died, i));
    }
    assertTrue(q.crashed(died, 4).getMessage().startsWith("workers died 5 times within 60.0 s"));
  }
}
