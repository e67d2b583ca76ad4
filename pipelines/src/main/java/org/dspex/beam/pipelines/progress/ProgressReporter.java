package org.dspex.beam.pipelines.progress;

import java.io.PrintStream;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Prints a job's progress to stderr while it runs: on a terminal ({@code System.console() != null})
 * a bar redrawn in place every {@value #TERMINAL_MILLIS} ms; otherwise a plain line every {@value
 * #PLAIN_MILLIS} ms. While the runner has reported no counts, the line says so and shows the time
 * running. Runs on a daemon thread from {@link #start} to {@link #stop}.
 */
public final class ProgressReporter implements AutoCloseable {
  /** Redraw interval on a terminal. */
  public static final long TERMINAL_MILLIS = 500;
  /** Interval of plain lines. */
  public static final long PLAIN_MILLIS = 5000;

  private final ProgressSource source;
  private final long total;
  private final boolean terminal;
  private final PrintStream err;
  private final long startNanos;
  private volatile boolean running;
  private Thread thread;
  private boolean drawn;

  /** Reports from {@code source} toward {@code total} records (-1 unknown). */
  public ProgressReporter(ProgressSource source, long total, boolean terminal, PrintStream err, long startNanos) {
    this.source = source;
    this.total = total;
    this.terminal = terminal;
    this.err = err;
    this.startNanos = startNanos;
  }

  /** Starts reporting. */
  public ProgressReporter start() {
    running = true;
    thread = new Thread(this::loop, "dspex-progress");
    thread.setDaemon(true);
    thread.start();
    return this;
  }

  private void loop() {
    long interval = terminal ? TERMINAL_MILLIS : PLAIN_MILLIS;
    while (running) {
      try {
        Thread.sleep(interval);
      } catch (InterruptedException e) {
        return;
      }
      if (running) {
        print(safeSnapshot());
      }
    }
  }

  /** The counts now, or null while none are known (also when the runner failed to say). */
  private @Nullable Snapshot safeSnapshot() {
    try {
      return source.snapshot();
    } catch (RuntimeException e) {
      return null;
    }
  }

  private synchronized void print(@Nullable Snapshot s) {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    if (terminal) {
      String line = s == null ? ProgressFormat.waitingBar(seconds) : ProgressFormat.bar(s, total, seconds);
      err.print("\r" + line + "\033[K");
      drawn = true;
    } else {
      err.println(s == null ? ProgressFormat.waitingPlain(seconds) : ProgressFormat.plain(s, total, seconds));
    }
    err.flush();
  }

  /** Stops reporting; on a terminal draws the final state {@code last} and ends the line. */
  public void stop(Snapshot last) {
    running = false;
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      if (terminal && (drawn || last != null)) {
        if (last != null) {
          print(last);
        }
        err.println();
      }
    }
  }

  @Override
  public void close() {
    if (running) {
      stop(null);
    }
  }
}
