package org.dspex.beam.pipelines.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The JVM-wide settings the command makes before a job: Pekko's JVM shutdown hook, which raced
 * Flink's local cluster closing its class loader after a successful job, stays off unless the user
 * asked for it.
 */
class DSPexCliTest {
  private static final String HOOK = "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook";
  private String before;

  @BeforeEach
  void saveProperty() {
    before = System.getProperty(HOOK);
    System.clearProperty(HOOK);
  }

  @AfterEach
  void restoreProperty() {
    if (before == null) {
      System.clearProperty(HOOK);
    } else {
      System.setProperty(HOOK, before);
    }
  }

  @Test
  void givenNoUserSetting_whenTheCommandRuns_thenPekkoRunsNoJvmShutdownHook() {
    assertEquals(0, DSPexCli.run("--help"));
    assertEquals("off", System.getProperty(HOOK));
  }

  @Test
  void givenTheUserTurnedTheHookOn_whenTheCommandRuns_thenTheirSettingStays() {
    System.setProperty(HOOK, "on");
    assertEquals(0, DSPexCli.run("--help"));
    assertEquals("on", System.getProperty(HOOK));
  }
}
