package org.dspex.beam.connector.worker;

/**
 * The worker process died (or its channel broke) while the request was pending or queued: the
 * message says how it ended ({@code worker 3 (pid 1234) exited with SIGKILL / exit code 137 during
 * request 17 'embed' after 2.3 s; last stderr lines: ...}). Retryable: the pool replaces the
 * worker.
 */
public final class WorkerCrashedException extends WorkerException {
  private static final long serialVersionUID = 1L;

  /** The crash described by {@code message}, with the error that revealed it (may be null). */
  public WorkerCrashedException(String message, Throwable cause) {
    super(message, cause);
  }

  /** As above, on {@code worker} ({@code worker 3 (pid 1234)}), which {@link #worker()} then names. */
  public WorkerCrashedException(String worker, String message, Throwable cause) {
    super(worker, message, cause);
  }

  @Override
  public boolean isRetryable() {
    return true;
  }
}
