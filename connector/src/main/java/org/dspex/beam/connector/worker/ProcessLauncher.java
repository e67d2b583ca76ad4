package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Forks every worker process from one long-lived thread per JVM.
 *
 * <p>Why: the worker asks Linux to kill it when its parent goes ({@code PR_SET_PDEATHSIG}), and
 * Linux takes "parent" to mean the <em>thread</em> that forked it. A worker forked from a pooled or
 * Beam runner thread would be killed when that thread is retired, long before the JVM ends. This
 * thread is never retired (a single core thread without timeout), so workers die with the JVM and
 * only then.
 */
final class ProcessLauncher {
  private static final ExecutorService LAUNCHER =
      Executors.newSingleThreadExecutor(WorkerThreads.factory("dspex-worker-launcher"));

  private ProcessLauncher() {}

  /** Starts {@code pb} on the launcher thread and registers the process with the shutdown hook. */
  static Process start(ProcessBuilder pb) throws IOException {
    Future<Process> f = LAUNCHER.submit(() -> ChildProcesses.register(pb.start()));
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      // The fork may still happen; the shutdown hook has it then.
      throw new InterruptedIOException("interrupted while starting a worker process");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException) {
        throw (IOException) c;
      }
      throw new IOException(c);
    }
  }
}
