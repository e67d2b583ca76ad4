package org.dspex.beam.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of the repository's {@code ./dspex} command as a child process, what a user runs: its
 * stdout and stderr in files of the benchmark's work folder, its JVM (the launcher {@code exec}s
 * java, so the child is the JVM), and the record count of its latest progress line.
 */
final class CommandRun implements AutoCloseable {
  /** The command's plain progress line: {@code dspex: 12,345/1,000,000 records (1%), ...}. */
  private static final Pattern PROGRESS = Pattern.compile("^dspex: ([0-9,]+)(?:/[0-9,]+)? records");

  private final Process process;
  private final Path stderr;
  private final long startNanos;

  private CommandRun(Process process, Path stderr, long startNanos) {
    this.process = process;
    this.stderr = stderr;
    this.startNanos = startNanos;
  }

  /**
   * Starts {@code ./dspex args...} in {@code work} with {@code javaOpts} as {@code
   * DSPEX_JAVA_OPTS}; {@code name} names its log files there.
   */
  static CommandRun start(BenchEnvironment env, Path work, String name, String javaOpts, List<String> args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(env.root().resolve("dspex").toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile())
        .redirectOutput(work.resolve(name + ".stdout").toFile())
        .redirectError(work.resolve(name + ".stderr").toFile());
    Map<String, String> e = pb.environment();
    e.put("DSPEX_JAVA_OPTS", javaOpts);
    e.put("HF_HUB_OFFLINE", "1");
    long start = System.nanoTime();
    return new CommandRun(pb.start(), work.resolve(name + ".stderr"), start);
  }

  /** The command's JVM. */
  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Seconds since the start. */
  double seconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Waits for the end; the exit code, or throws after {@code timeoutSeconds} (the run killed). */
  int waitFor(long timeoutSeconds) throws IOException, InterruptedException {
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      close();
      throw new IOException("./dspex ran over " + timeoutSeconds + " s; its stderr: " + stderr);
    }
    return process.exitValue();
  }

  /** Records done by the latest progress line so far (-1 before the first). */
  long progress() throws IOException {
    long done = -1;
    for (String line : Files.readAllLines(stderr, StandardCharsets.UTF_8)) {
      Matcher m = PROGRESS.matcher(line);
      if (m.find()) {
        done = Long.parseLong(m.group(1).replace(",", ""));
      }
    }
    return done;
  }

  /** Everything the command printed, stdout then stderr. */
  String outputText() throws IOException {
    Path stdout = stderr.resolveSibling(stderr.getFileName().toString().replace(".stderr", ".stdout"));
    return Files.readString(stdout, StandardCharsets.UTF_8) + Files.readString(stderr, StandardCharsets.UTF_8);
  }

  /** The last lines of stderr, for an error message. */
  String stderrTail() throws IOException {
    List<String> lines = Files.readAllLines(stderr, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
  }

  /** SIGTERM, as Ctrl-C would: the command removes its temporary files. */
  void terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      close();
    }
  }

  @Override
  public void close() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }
}
