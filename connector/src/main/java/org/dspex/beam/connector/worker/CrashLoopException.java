package org.dspex.beam.connector.worker;

/**
 * Workers of a pool died too often in a short time ({@link WorkerConfig#withCrashLoop}): the pool
 * stopped restarting them and fails every request with this exception. The message gives the count,
 * the window and the last stderr lines of the last worker that died. Not retryable: fix the cause
 * (usually in those stderr lines), then acquire a new pool.
 */
public final class CrashLoopException extends WorkerException {
  private static final long serialVersionUID = 1L;

  /** The breaker trip described by {@code message}, with the last crash as cause. */
  public CrashLoopException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean isRetryable() {
    return false;
  }
}
