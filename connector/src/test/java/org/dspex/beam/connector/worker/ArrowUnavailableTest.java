package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.codec.ArrowUnavailableException;
import org.junit.jupiter.api.Test;

/**
 * A JVM in which Arrow cannot start (Java 17 without {@code --add-opens=java.base/java.nio}) gets a
 * pool failure that names the fix, at once: the Arrow error used to end the thread starting the
 * worker, and whoever waited for the pool (a {@code describeProgram}, the first bundle) waited
 * forever.
 */
class ArrowUnavailableTest {
  @Test
  void givenJvmWithoutArrowsAddOpens_thenThePoolFailsAtOnceNamingTheOption() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Ddspex.python=" + WorkerTestSupport.python(),
        "-cp", System.getProperty("java.class.path"), NoArrowMain.class.getName());
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process jvm = pb.start();
    try {
      assertTrue(jvm.waitFor(60, TimeUnit.SECONDS), "the pool neither started nor failed within 60 s");
      String out = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertTrue(out.contains("FAILED WorkerStartException CONNECTOR_FAILED"), out);
      assertTrue(out.contains(ArrowUnavailableException.ADD_OPENS), out);
      assertTrue(out.contains("worker 1 (pid "), "names the worker: " + out);
      assertFalse(out.contains("ANSWERED"), out);
    } finally {
      jvm.destroyForcibly();
    }
  }
}
