package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker's operating-system process: started on the launcher thread with its stderr pumped,
 * killed (SIGTERM, then SIGKILL after the kill grace), and how it ended (exit status, why it was
 * killed, its last stderr lines); its temporary directory is deleted when it ends. The frames on
 * its pipes are the {@link WorkerChannel}'s business.
 */
final class WorkerProcess {
  private static final Logger LOG = LoggerFactory.getLogger(PythonWorker.class);

  private final String name;
  private final Process process;
  private final StderrPump stderr;
  private final Redactor redactor;
  private final Duration killGrace;
  private volatile String killReason;

  /**
   * How the process ended: {@code how} says it ({@code worker 3 (pid 1234) exited with SIGKILL /
   * exit code 137}, or was killed because ..., or broke its channel), {@code stderrSuffix} adds its
   * last stderr lines; both redacted.
   */
  record End(String how, String stderrSuffix, Integer exitStatus) {}

  private WorkerProcess(String name, Process process, Redactor redactor, int stderrLines, Duration killGrace) {
    this.name = name;
    this.process = process;
    this.redactor = redactor;
    this.killGrace = killGrace;
    this.stderr = new StderrPump(process.getErrorStream(), name, redactor, stderrLines);
  }

  /**
   * Starts {@code launch} as worker {@code id} ({@code worker 3 (pid 1234)} in every message).
   *
   * @throws WorkerStartException when it cannot be run
   */
  static WorkerProcess start(WorkerLaunch launch, int id, WorkerConfig config) throws WorkerStartException {
    Process process;
    try {
      process = ProcessLauncher.start(launch.builder);
    } catch (IOException e) {
      ScratchRoot.deleteTree(launch.tempDir);
      throw new WorkerStartException(WorkerStartException.Reason.INTERPRETER_NOT_FOUND,
          "cannot run " + launch.program + ": " + launch.redactor.redact(e.getMessage()), null);
    }
    // However the worker ends (closed, crashed, killed, refused at hello), its files go with it.
    process.onExit().thenRun(() -> ScratchRoot.deleteTree(launch.tempDir));
    return new WorkerProcess("worker " + id + " (pid " + process.pid() + ")", process, launch.redactor,
        Math.max(config.stderrLines(), 1), config.killGrace());
  }

  /** {@code worker 3 (pid 1234)}. */
  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  /** What the worker writes: the channel's input. */
  InputStream output() {
    return process.getInputStream();
  }

  /** What the worker reads: the channel's output. */
  OutputStream input() {
    return process.getOutputStream();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGTERM, no questions asked (a broken pipe: it is dying anyway). */
  void destroy() {
    process.destroy();
  }

  /** SIGKILL at once. */
  void destroyForcibly() {
    process.destroyForcibly();
  }

  /** Ends the worker's input, so that it exits when its requests are answered. */
  void closeInput() {
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // Already closed by a dying worker.
    }
  }

  /**
   * Kills the process for {@code reason}: SIGTERM, then SIGKILL after the kill grace. Only the
   * first reason counts; its end then says "was killed because {@code reason}".
   */
  void kill(String reason) {
    kill(reason, false);
  }

  /**
   * {@link #kill(String)}, with SIGKILL at once if {@code now}: for a stalled process, which cannot
   * act on SIGTERM (a stopped one does not even receive it until it is continued).
   */
  void kill(String reason, boolean now) {
    synchronized (this) {
      if (killReason != null) {
        return;
      }
      killReason = reason;
    }
    LOG.warn("{}: killing it: {}", name, reason);
    if (now) {
      process.destroyForcibly();
      return;
    }
    process.destroy();
    WorkerThreads.SCHEDULER.schedule(() -> {
      if (process.isAlive()) {
        process.destroyForcibly();
      }
    }, killGrace.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Why {@link #kill} was called, or null. */
  String killReason() {
    return killReason;
  }

  /** The exit status if the process ends within the kill grace, else null (it still runs). */
  Integer exitWithinGrace() {
    try {
      return process.waitFor(killGrace.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /**
   * Waits for the end of a process whose channel ended ({@code failure}: how it broke, null for a
   * clean end of stream): stops one that runs on (a broken channel cannot be trusted), then SIGKILLs
   * it after the grace; says how it ended.
   */
  End ended(IOException failure) {
    if (failure != null && process.isAlive()) {
      process.destroy();
    }
    Integer exit = awaitExit();
    stderr.awaitEnd(1000);
    String ended = exit == null ? " could not be stopped" : " exited with " + ExitStatus.describe(exit);
    String how = killReason == null ? name + ended : name + " was killed because " + killReason + "; it" + ended;
    if (failure != null && killReason == null) {
      how = name + " broke its channel (" + failure.getMessage() + ") and" + ended;
    }
    return new End(redactor.redact(how), stderr.lastLinesSuffix(), exit);
  }

  private Integer awaitExit() {
    try {
      if (!process.waitFor(killGrace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          return null;
        }
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      return null;
    }
  }

  /** Waits (bounded) until stderr reached its end, so a message has the dying words. */
  void awaitStderrEnd() {
    stderr.awaitEnd(1000);
  }

  /** The last stderr lines (redacted), oldest first. */
  List<String> lastStderrLines() {
    return stderr.lastLines();
  }

  /** {@code "; last stderr lines:\n  a\n  b"}, or {@code "; no stderr output"}. */
  String stderrSuffix() {
    return stderr.lastLinesSuffix();
  }

  /** A cause fit for a message: {@code t}, unless its text carries a secret (bytes echoed from the channel, say). */
  Throwable safeCause(Throwable t) {
    if (t == null) {
      return null;
    }
    String text = String.valueOf(t);
    return redactor.redact(text).equals(text) ? t : null;
  }
}
