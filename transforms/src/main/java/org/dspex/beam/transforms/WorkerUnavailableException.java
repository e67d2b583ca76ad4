package org.dspex.beam.transforms;

/**
 * No worker could start, or the one started died or hung before it answered: a missing
 * interpreter, missing packages, a crash loop, a timeout. The fix is in the worker settings or
 * the Python environment; the message says what failed, the cause is the connector's exception.
 *
 * <p>Thrown by {@link DSPexPredict#describeProgram()}.
 */
public final class WorkerUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  /** With what failed and the exception that said so. */
  public WorkerUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
