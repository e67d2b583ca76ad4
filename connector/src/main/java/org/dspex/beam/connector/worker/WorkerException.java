package org.dspex.beam.connector.worker;

import java.io.IOException;

/**
 * Root of the worker fault family: something went wrong with a Python worker process rather than
 * with the bytes on its channel (those are {@link org.dspex.beam.connector.protocol.ProtocolException}s).
 *
 * <h3>Retrying</h3>
 *
 * <p>{@link #isRetryable()} tells a caller whether sending the same request again (to the same
 * pool, which replaces dead workers) may succeed:
 *
 * <ul>
 *   <li>{@link WorkerCrashedException}, {@link WorkerTimeoutException}: retryable. The worker died
 *       or hung; the request itself may be fine. A request that killed its worker every time ends
 *       in a {@link CrashLoopException} instead of endless retries.
 *   <li>{@link RemoteHandlerException}: not retryable. The handler looked at the request and
 *       raised; it would raise again.
 *   <li>{@link WorkerStartException}, {@link CrashLoopException}: not retryable. No worker can
 *       start or stay up with this configuration; the message says what to fix.
 * </ul>
 *
 * <p>Messages never contain the values of configured secrets (see {@link
 * WorkerConfig#withSecretEnv}); they are replaced by {@code ***}.
 */
public abstract class WorkerException extends IOException {
  private static final long serialVersionUID = 1L;

  protected WorkerException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Whether the same request may succeed when sent again; see the class documentation. */
  public abstract boolean isRetryable();
}
