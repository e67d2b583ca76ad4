package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.dspex.beam.connector.protocol.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing the connector writes outlives it: a worker's temporary directory goes with the worker,
 * a JVM's roots with its exit, and the roots of a JVM killed with SIGKILL with the next sweep,
 * while those of a live JVM stay.
 */
class ScratchRootTest {
  @TempDir Path tmp;

  /** A child JVM running {@link ScratchRootMain} with {@code java.io.tmpdir} at {@code tmp}. */
  private record Child(Process jvm, Path disk, Path memory, Path workerTemp) {}

  private Child start() throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "-Ddspex.python=" + WorkerTestSupport.python(), "-Djava.io.tmpdir=" + tmp,
        "-cp", System.getProperty("java.class.path"), ScratchRootMain.class.getName());
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process jvm = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null && !line.startsWith("ROOTS ")) {
      // Skip anything else the child prints.
    }
    if (line == null) {
      jvm.destroyForcibly();
      throw new AssertionError("the child JVM ended without printing its roots");
    }
    String[] p = line.substring(6).split(" ");
    return new Child(jvm, Path.of(p[0]), Path.of(p[1]), Path.of(p[2]));
  }

  /** As if the last change to {@code root} were a minute ago (a sweep spares young roots). */
  private static void age(Path root) throws IOException {
    Files.setLastModifiedTime(root, FileTime.from(Instant.now().minusSeconds(60)));
  }

  private static Path fakeRoot(Path parent, long pid, boolean lockFile) throws IOException {
    Path root = Files.createDirectory(parent.resolve(ScratchRoot.PREFIX + pid + "-fake" + (lockFile ? "L" : "N")));
    Files.createDirectory(root.resolve("python-0123456789abcdef-1"));
    if (lockFile) {
      Files.createFile(root.resolve(ScratchRoot.LOCK_FILE));
    }
    return root;
  }

  @Test
  void givenAJvmKilledWithSigkill_thenTheSweepDeletesItsRootsAndKeepsThoseOfALiveJvm() throws Exception {
    Child live = start();
    Child killed = start();
    try {
      assertTrue(killed.disk().startsWith(tmp), killed.toString());
      assertTrue(killed.workerTemp().startsWith(killed.disk()), killed.toString());
      for (Path p : List.of(killed.disk(), killed.memory(), killed.workerTemp(), live.disk(), live.memory())) {
        assertTrue(Files.isDirectory(p), p::toString);
      }
      killed.jvm().destroyForcibly();
      assertTrue(killed.jvm().waitFor(10, TimeUnit.SECONDS));
      // No hook ran: what the dead JVM made is all still there.
      assertTrue(Files.isDirectory(killed.workerTemp()));
      // A root whose pid is alive (reused) but whose lock is free, and one that never got a lock file.
      Path reusedPid = fakeRoot(tmp, live.jvm().pid(), true);
      Path neverLocked = fakeRoot(tmp, 1, false);
      Path young = fakeRoot(tmp, 2, true);
      for (Path root : List.of(killed.disk(), killed.memory(), live.disk(), live.memory(), reusedPid, neverLocked)) {
        age(root);
      }

      ScratchRoot.sweep(tmp);
      ScratchRoot.sweep(killed.memory().getParent());

      assertFalse(Files.exists(killed.disk()), "the killed JVM's root, its worker code and its worker's temp dir");
      assertFalse(Files.exists(killed.memory()), "the killed JVM's spill root");
      assertFalse(Files.exists(reusedPid), "a live pid alone does not keep a root");
      assertFalse(Files.exists(neverLocked));
      assertTrue(Files.isDirectory(young), "being made right now, perhaps");
      assertTrue(Files.isDirectory(live.disk()) && Files.isDirectory(live.memory()), "the live JVM holds its lock");
      assertTrue(Files.isDirectory(live.workerTemp()));
    } finally {
      killed.jvm().destroyForcibly();
      live.jvm().getOutputStream().close();
    }
    assertTrue(live.jvm().waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, live.jvm().exitValue());
    assertFalse(Files.exists(live.disk()), "deleted by the exiting JVM's hook");
    assertFalse(Files.exists(live.memory()), "deleted by the exiting JVM's hook");
  }

  @Test
  void givenAWorkerThatDies_thenItsTemporaryDirectoryIsDeletedAndItsSuccessorGetsANewOneAndTheSameLmCache() throws Exception {
    Path temp;
    Path next;
    try (WorkerPool pool = WorkerPool.create(WorkerTestSupport.config())) {
      long pid = pool.pids().get(0);
      Map<String, Object> env = pool.call(Request.of("env")
          .withArg("names", List.of(WorkerLaunch.TEMP_DIR_ENV, "DSPY_CACHEDIR"))).resultMap();
      temp = Path.of((String) env.get(WorkerLaunch.TEMP_DIR_ENV));
      assertEquals(ScratchRoot.onDisk().path(), temp.getParent());
      assertTrue(temp.getFileName().toString().startsWith("worker-1-"), temp.toString());
      assertTrue(Files.isDirectory(temp));
      if (System.getenv("DSPY_CACHEDIR") == null) {
        assertEquals(ScratchRoot.onDisk().path().resolve(WorkerLaunch.SHARED_LM_CACHE).toString(),
            env.get(WorkerLaunch.LM_CACHE_ENV), "one LM cache for the JVM's workers, in its root");
      }
      Files.writeString(temp.resolve("left-by-the-worker"), "x");
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      PythonWorkerTest.waitFor(() -> !Files.exists(temp));
      next = Path.of((String) pool.call(Request.of("env").withArg("names", List.of(WorkerLaunch.TEMP_DIR_ENV)))
          .resultMap().get(WorkerLaunch.TEMP_DIR_ENV));
      assertNotEquals(temp, next);
      if (System.getenv("DSPY_CACHEDIR") == null) {
        assertEquals(env.get(WorkerLaunch.LM_CACHE_ENV), pool.call(Request.of("env")
            .withArg("names", List.of(WorkerLaunch.LM_CACHE_ENV))).resultMap().get(WorkerLaunch.LM_CACHE_ENV),
            "the successor shares its predecessor's LM cache");
      }
      assertTrue(Files.isDirectory(next));
    }
    PythonWorkerTest.waitFor(() -> !Files.exists(next));
    try (Stream<Path> left = Files.list(ScratchRoot.onDisk().path())) {
      assertTrue(left.noneMatch(p -> p.equals(temp) || p.equals(next)));
    }
  }
}
