package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.util.Optional;

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
 *   <li>{@link UnsupportedRequestException}: not retryable. The worker (a V1 peer) cannot take
 *       such a request; it was not sent.
 *   <li>{@link WorkerStartException}, {@link CrashLoopException}: not retryable. No worker can
 *       start or stay up with this configuration; the message says what to fix.
 * </ul>
 *
 * <h3>Which worker</h3>
 *
 * <p>{@link #worker()} names the worker that answered or failed ({@code worker 3 (pid 1234)}, as
 * the message does), set by whoever raised the fault; it is empty for faults of no one worker (no
 * live worker in the pool, a crash loop, a start that failed before a process existed).
 *
 * <p>Messages never contain the values of configured secrets (see {@link
 * WorkerConfig#withSecretEnv}); they are replaced by {@code ***}.
 */
public abstract class WorkerException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String worker;

  /** A fault of no one worker. */
  protected WorkerException(String message, Throwable cause) {
    this(null, message, cause);
  }

  /** A fault of {@code worker} ({@code worker 3 (pid 1234)}; null: of no one worker). */
  protected WorkerException(String worker, String message, Throwable cause) {
    super(message, cause);
    this.worker = worker;
  }

  /** The worker that answered or failed, {@code worker 3 (pid 1234)}; see the class documentation. */
  public Optional<String> worker() {
    return Optional.ofNullable(worker);
  }

  /** Whether the same request may succeed when sent again; see the class documentation. */
  public abstract boolean isRetryable();
}
