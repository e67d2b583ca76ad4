package org.dspex.beam.connector.worker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains a worker's stderr on its own thread (a full stderr pipe would block the worker), logs each
 * line through SLF4J with the worker's name, and keeps the last lines for crash messages. Lines are
 * redacted before they are logged or kept.
 *
 * <p>Log levels follow the worker's own tags ({@code dspex-worker[3 pid=12] WARNING ...}); other
 * lines (tracebacks, library noise) are logged at INFO.
 */
final class StderrPump {
  private static final Logger LOG = LoggerFactory.getLogger("org.dspex.beam.connector.worker.stderr");

  private final String worker;
  private final Redactor redactor;
  private final int keep;
  private final ArrayDeque<String> last = new ArrayDeque<>();
  private final Thread thread;

  StderrPump(InputStream stderr, String worker, Redactor redactor, int keep) {
    this.worker = worker;
    this.redactor = redactor;
    this.keep = keep;
    this.thread = WorkerThreads.daemon(worker + " stderr", () -> pump(stderr));
    thread.start();
  }

  private void pump(InputStream stderr) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(stderr, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        String safe = redactor.redact(line);
        synchronized (last) {
          if (keep > 0) {
            if (last.size() == keep) {
              last.removeFirst();
            }
            last.addLast(safe);
          }
        }
        log(safe);
      }
    } catch (IOException e) {
      // The process is gone and its pipe closed under us: nothing more to read.
    }
  }

  private void log(String line) {
    if (line.contains("] ERROR ") || line.contains("] CRITICAL ")) {
      LOG.error("{}: {}", worker, line);
    } else if (line.contains("] WARNING ")) {
      LOG.warn("{}: {}", worker, line);
    } else if (line.contains("] DEBUG ")) {
      LOG.debug("{}: {}", worker, line);
    } else {
      LOG.info("{}: {}", worker, line);
    }
  }

  /** Waits (bounded) until stderr reached its end, so a crash message has the dying words. */
  void awaitEnd(long millis) {
    try {
      thread.join(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The last lines, oldest first. */
  List<String> lastLines() {
    synchronized (last) {
      return new ArrayList<>(last);
    }
  }

  /** {@code "; last stderr lines:\n  a\n  b"}, or {@code "; no stderr output"}. */
  String lastLinesSuffix() {
    List<String> lines = lastLines();
    if (lines.isEmpty()) {
      return "; no stderr output";
    }
    StringBuilder sb = new StringBuilder("; last stderr lines:");
    for (String l : lines) {
      sb.append("\n  ").append(l);
    }
    return sb.toString();
  }
}
