package org.dspex.beam.connector.worker;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Every worker process this JVM started and that is still running, and the JVM shutdown hook that
 * ends them: a DoFn's {@code @Teardown} may never run, and a worker must not outlive its JVM. The
 * same hook then deletes the directories given to {@link #deleteAtExit} (a worker may write into
 * them until it is gone). (A JVM killed by SIGKILL runs no hook; then the workers see their
 * channel close, and the parent death signal, and exit by themselves, and the next JVM sweeps the
 * directories: see {@link ScratchRoot}.)
 */
final class ChildProcesses {
  /** How long the hook waits for SIGTERM to work before SIGKILL. */
  static final long HOOK_GRACE_MILLIS = 2000;

  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
  private static final Set<Path> DIRECTORIES = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      endAll();
      DIRECTORIES.forEach(ScratchRoot::deleteTree);
    }, "dspex-worker-shutdown"));
  }

  private ChildProcesses() {}

  static Process register(Process p) {
    LIVE.add(p);
    p.onExit().thenRun(() -> LIVE.remove(p));
    return p;
  }

  /** Deletes {@code dir} (and what is in it) when the JVM exits, after every worker ended. */
  static void deleteAtExit(Path dir) {
    DIRECTORIES.add(dir);
  }

  private static void endAll() {
    List<Process> all = List.copyOf(LIVE);
    for (Process p : all) {
      p.destroy();
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HOOK_GRACE_MILLIS);
    for (Process p : all) {
      long left = deadline - System.nanoTime();
      try {
        if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
      }
    }
  }
}
