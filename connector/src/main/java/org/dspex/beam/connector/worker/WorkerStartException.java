package org.dspex.beam.connector.worker;

/**
 * No worker could be started: no interpreter configured, an interpreter that does not exist or is
 * too old, a missing package, a version mismatch between the connector and the worker code, a
 * refused handshake, or a process that died before answering; from a pool also: workers that died
 * or timed out during start or setup {@link WorkerConfig#withMaxStartFailures} times in a row. The
 * message names the interpreter or the worker and says what to do (for a missing package: the
 * {@code pip install} command line; for a worker that died: how it ended and its last stderr lines).
 * Not retryable.
 */
public final class WorkerStartException extends WorkerException {
  private static final long serialVersionUID = 1L;

  /** Why the start failed; a pool restarts only after {@link #isTransient()} reasons. */
  public enum Reason {
    /** Neither {@link WorkerConfig#withPython} nor {@code DSPEX_PYTHON} is set, and the managed venv is off. */
    NO_INTERPRETER_CONFIGURED,
    /** The managed venv could not be built (no Python to create it, pip failed, the index unreachable). */
    ENVIRONMENT_FAILED,
    /** The interpreter path does not exist or cannot be executed. */
    INTERPRETER_NOT_FOUND,
    /** The interpreter is older than Python 3.11. */
    INTERPRETER_TOO_OLD,
    /** numpy, pyarrow or msgpack (or the worker module itself) cannot be imported. */
    MISSING_PACKAGE,
    /** The worker code is not of the connector's version, or does not speak protocol v2. */
    VERSION_MISMATCH,
    /** The worker refused {@code hello} or a {@code setup} failed. */
    REFUSED,
    /** The channel carried something else than frames (a banner printed on stdout). */
    PROTOCOL_ERROR,
    /** The process exited before answering {@code hello}, for no reason found in its stderr. */
    EXITED,
    /** No answer to {@code hello} (or {@code setup}) within the start (setup) timeout. */
    TIMED_OUT,
    /**
     * This JVM cannot run the connector's side of a worker: Arrow cannot start (a JVM without
     * {@code --add-opens=java.base/java.nio=ALL-UNNAMED}), or an error such as running out of memory.
     */
    CONNECTOR_FAILED
  }

  private final Reason reason;

  /** A start failure for {@code reason}, described by {@code message}. */
  public WorkerStartException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** Why the start failed. */
  public Reason reason() {
    return reason;
  }

  /**
   * Whether a later start may succeed without a configuration change ({@link Reason#EXITED},
   * {@link Reason#TIMED_OUT}): a pool tries again, up to {@link WorkerConfig#withMaxStartFailures}
   * starts in a row; for every other reason it fails at once.
   */
  public boolean isTransient() {
    return reason == Reason.EXITED || reason == Reason.TIMED_OUT;
  }

  @Override
  public boolean isRetryable() {
    return false;
  }
}
