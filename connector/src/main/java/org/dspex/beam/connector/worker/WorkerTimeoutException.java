package org.dspex.beam.connector.worker;

/**
 * A request (or the start handshake, or a {@code setup}) took longer than its timeout; the worker
 * was killed, so every other request pending on it failed with a {@link WorkerCrashedException}.
 * Retryable: a hang is often the worker's state, not the request's; a request that hangs every
 * worker ends in a {@link CrashLoopException}.
 */
public final class WorkerTimeoutException extends WorkerException {
  private static final long serialVersionUID = 1L;

  /** The timeout described by {@code message}. */
  public WorkerTimeoutException(String message, Throwable cause) {
    super(message, cause);
  }

  /** As above, on {@code worker} ({@code worker 3 (pid 1234)}), which {@link #worker()} then names. */
  public WorkerTimeoutException(String worker, String message, Throwable cause) {
    super(worker, message, cause);
  }

  @Override
  public boolean isRetryable() {
    return true;
  }
}
