package org.dspex.beam.connector.environment;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** One step of a venv build: a process whose merged output is passed on line by line and kept (its tail). */
final class Command {
  private static final int TAIL_LINES = 40;

  /** What a finished process left: its exit code and the last lines it printed. */
  record Outcome(int exit, List<String> tail) {
    boolean ok() {
      return exit == 0;
    }

    String tailText() {
      return String.join("\n", tail);
    }
  }

  private Command() {}

  /**
   * Runs {@code argv}, passing each output line to {@code lines}; kills it at {@code deadline}.
   *
   * @throws EnvironmentSetupException when it cannot start or outlives the deadline
   */
  static Outcome run(List<String> argv, Path dir, long deadlineNanos, Consumer<String> lines)
      throws EnvironmentSetupException {
    ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    // pip and venv must not pick up the user's site or a venv the JVM was started from.
    pb.environment().remove("PYTHONPATH");
    pb.environment().remove("PYTHONHOME");
    pb.environment().remove("VIRTUAL_ENV");
    pb.environment().put("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    pb.environment().put("PYTHONNOUSERSITE", "1");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new EnvironmentSetupException("cannot run " + argv.get(0) + ": " + e.getMessage(), e);
    }
    Deque<String> tail = new ArrayDeque<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          synchronized (tail) {
            tail.addLast(line);
            if (tail.size() > TAIL_LINES) {
              tail.removeFirst();
            }
          }
          lines.accept(line);
        }
      } catch (IOException e) {
        // The process was killed; what was read is kept.
      }
    }, "dspex-venv-output");
    reader.setDaemon(true);
    reader.start();
    try {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new EnvironmentSetupException("'" + String.join(" ", argv) + "' did not finish within the build"
            + " timeout (PythonEnvironment.withBuildTimeout); its last lines:\n" + snapshot(tail), null);
      }
      reader.join(Duration.ofSeconds(5).toMillis());
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new EnvironmentSetupException("interrupted while running " + argv.get(0), e);
    }
    return new Outcome(p.exitValue(), List.copyOf(snapshotList(tail)));
  }

  private static String snapshot(Deque<String> tail) {
    return String.join("\n", snapshotList(tail));
  }

  private static List<String> snapshotList(Deque<String> tail) {
    synchronized (tail) {
      return List.copyOf(tail);
    }
  }
}
