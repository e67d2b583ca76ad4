package org.dspex.beam.connector.worker;

import java.nio.file.Path;
import java.time.Duration;

/** The test venv's interpreter and a configuration with short timeouts for fault tests. */
final class WorkerTestSupport {
  static final String TEST_HANDLERS = "dspex_testing.handlers";

  private WorkerTestSupport() {}

  static String python() {
    return System.getProperty("dspex.python", "../.venv/bin/python");
  }

  /** The directory of the test package {@code dspex_testing}, which the connector jar does not bundle. */
  static String testingPythonPath() {
    return Path.of(System.getProperty("dspex.testdata", "../testdata")).resolve("../python/testing")
        .toAbsolutePath().normalize().toString();
  }

  static WorkerConfig config() {
    return WorkerConfig.create()
        .withPython(python())
        .withPythonPath(testingPythonPath())
        .withHandlerModules(TEST_HANDLERS)
        .withThreadsPerWorker(1)
        .withStartTimeout(Duration.ofSeconds(30))
        .withKillGrace(Duration.ofSeconds(1))
        .withRestartBackoff(Duration.ofMillis(50), Duration.ofMillis(400));
  }
}
