package org.dspex.beam.connector.worker;

import java.time.Duration;

/** The test venv's interpreter and a configuration with short timeouts for fault tests. */
final class WorkerTestSupport {
  static final String TEST_HANDLERS = "dspex_worker.testing.handlers";

  private WorkerTestSupport() {}

  static String python() {
    return System.getProperty("dspex.python", "../.venv/bin/python");
  }

  static WorkerConfig config() {
    return WorkerConfig.create()
        .withPython(python())
        .withHandlerModules(TEST_HANDLERS)
        .withThreadsPerWorker(1)
        .withStartTimeout(Duration.ofSeconds(30))
        .withKillGrace(Duration.ofSeconds(1))
        .withRestartBackoff(Duration.ofMillis(50), Duration.ofMillis(400));
  }
}
