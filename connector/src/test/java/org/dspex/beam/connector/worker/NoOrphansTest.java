package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Workers never outlive their JVM, even one killed with SIGKILL (no shutdown hook runs then). */
class NoOrphansTest {
  @Test
  void givenJvmKilledWithSigkill_thenEveryWorkerItStartedIsGoneWithinTwoSeconds() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "-Ddspex.python=" + WorkerTestSupport.python(),
        "-cp", System.getProperty("java.class.path"), OrphanMain.class.getName());
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process jvm = pb.start();
    List<Long> pids = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null && !line.startsWith("PIDS")) {
        // Skip anything else the child prints.
      }
      assertTrue(line != null, "the child JVM ended without printing its workers' pids");
      for (String p : line.substring(4).trim().split(" ")) {
        pids.add(Long.parseLong(p));
      }
    } finally {
      jvm.destroyForcibly(); // SIGKILL
    }
    assertEquals(2, pids.size());
    assertTrue(jvm.waitFor(10, TimeUnit.SECONDS));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    for (long pid : pids) {
      while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        assertTrue(System.nanoTime() < deadline, "worker pid " + pid + " outlived its JVM by 2 s");
        Thread.sleep(20);
      }
    }
  }
}
