package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs the real {@code <root>/dspex} launcher as a separate process, the way a user does, and
 * Python snippets with the project venv (to read outputs with pyarrow, pandas and DuckDB).
 *
 * <p>The root comes from the {@code dspex.root} system property (failsafe sets it); without it
 * (an IDE run) from the first parent of the working directory that holds {@code dspex}. Runs set
 * {@code DSPEX_SKIP_BUILD=1}: Maven built the jar just before the ITs, and a test must never start
 * a nested build ({@link LauncherIT} checks the staleness check itself).
 */
final class Dspex {
  /** Generous per-run limit: a run that hangs fails its test instead of the whole build. */
  static final Duration TIMEOUT = Duration.ofMinutes(6);

  private Dspex() {}

  /** The repository root. */
  static Path root() {
    String p = System.getProperty("dspex.root");
    if (p != null && !p.isEmpty()) {
      return Path.of(p).toAbsolutePath().normalize();
    }
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("dspex")) && Files.isDirectory(d.resolve("pipelines"))) {
        return d;
      }
    }
    throw new IllegalStateException("no dspex.root system property and no dspex launcher above "
        + Path.of("").toAbsolutePath());
  }

  /** A file of {@code testdata/}. */
  static Path testdata(String relative) {
    return root().resolve("testdata").resolve(relative);
  }

  /** The venv's interpreter, {@code <root>/.venv/bin/python}. */
  static Path python() {
    return root().resolve(".venv/bin/python");
  }

  /** What a finished process left behind. */
  record Run(List<String> command, int exitCode, String stdout, String stderr) {
    /** stderr's lines. */
    List<String> stderrLines() {
      return stderr.isEmpty() ? List.of() : Arrays.asList(stderr.split("\\R"));
    }

    /** Asserts the exit code, showing the command and its stderr when it differs. */
    Run expectExit(int expected) {
      assertEquals(expected, exitCode, () -> "exit code of " + this);
      return this;
    }

    /** Asserts that stderr has no stack trace (no {@code at ...} frame, no {@code Caused by}). */
    Run expectNoStackTrace() {
      for (String line : stderrLines()) {
        assertTrue(!line.matches("\\s+at [\\w$.]+\\(.*\\)") && !line.startsWith("Caused by:")
            && !line.matches("^\\S+(Exception|Error)(: .*)?$"), () -> "a stack trace on stderr: " + this);
      }
      return this;
    }

    /** The {@code dspex: error: ...} lines of stderr. */
    List<String> errorLines() {
      return stderrLines().stream().filter(l -> l.startsWith("dspex: error:")).collect(Collectors.toList());
    }

    @Override
    public String toString() {
      List<String> lines = stderrLines();
      String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
      return String.join(" ", command) + "\n  exit code " + exitCode + "\n  stdout: "
          + (stdout.length() > 2000 ? stdout.substring(0, 2000) + "..." : stdout) + "\n  stderr (last 60 lines):\n"
          + tail;
    }
  }

  /** {@code ./dspex args...}, run in {@code cwd}. */
  static Run run(Path cwd, String... args) throws IOException, InterruptedException {
    return run(cwd, Map.of(), args);
  }

  /** {@code ./dspex args...}, run in {@code cwd} with extra environment variables. */
  static Run run(Path cwd, Map<String, String> env, String... args) throws IOException, InterruptedException {
    return exec(launcher(args), cwd, skipBuild(env), TIMEOUT);
  }

  /** The launcher's command line. */
  private static List<String> launcher(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(root().resolve("dspex").toString());
    cmd.addAll(Arrays.asList(args));
    return cmd;
  }

  /** {@code env} plus {@code DSPEX_SKIP_BUILD=1}. */
  private static Map<String, String> skipBuild(Map<String, String> env) {
    Map<String, String> e = new LinkedHashMap<>();
    e.put("DSPEX_SKIP_BUILD", "1");
    e.putAll(env);
    return e;
  }

  /**
   * Runs a Python snippet with the venv ({@code python -c code args...}; {@code <root>/python} on
   * the path) and returns the run; the caller checks its exit code.
   */
  static Run python(Path cwd, String code, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(python().toString(), "-c", code));
    cmd.addAll(Arrays.asList(args));
    return exec(cmd, cwd, Map.of("PYTHONPATH", root().resolve("python").toString(), "HF_HUB_OFFLINE", "1"),
        Duration.ofMinutes(3));
  }

  /**
   * Runs {@code cmd} to its end (or kills it, and its children, after {@code timeout}), with
   * {@code env} added to this JVM's environment (a null value removes the variable).
   */
  static Run exec(List<String> cmd, Path cwd, Map<String, String> env, Duration timeout)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile("dspex-it-", ".stdout");
    Path err = Files.createTempFile("dspex-it-", ".stderr");
    try {
      Process p = builder(cmd, cwd, env).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
        throw new AssertionError("timed out after " + timeout + ": " + new Run(cmd, -1,
            Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8)));
      }
      return new Run(cmd, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /**
   * {@code ./dspex args...} started in {@code cwd} and not waited for (the launcher execs the JVM,
   * so the process is the JVM: {@code destroy()} is a SIGTERM, {@code destroyForcibly()} a kill -9);
   * stderr goes to {@code stderr}, stdout is discarded.
   */
  static Process start(Path cwd, Path stderr, Map<String, String> env, String... args) throws IOException {
    return builder(launcher(args), cwd, skipBuild(env)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(stderr.toFile()).start();
  }

  /** A process of {@code cmd} in {@code cwd}, no stdin, {@code env} added (a null value removes the variable). */
  private static ProcessBuilder builder(List<String> cmd, Path cwd, Map<String, String> env) {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    env.forEach((k, v) -> {
      if (v == null) {
        pb.environment().remove(k);
      } else {
        pb.environment().put(k, v);
      }
    });
    return pb;
  }
}
