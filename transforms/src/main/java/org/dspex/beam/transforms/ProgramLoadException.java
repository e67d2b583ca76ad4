package org.dspex.beam.transforms;

/**
 * A worker started but the program failed to load: a bad {@code module:factory}, an import error
 * in the user's module, a factory that raised or returned no {@code dspy.Module}, an unreadable
 * program state. The fix is in the program, not in the workers; the message carries the Python
 * error, the cause the connector's exception (with the Python type and traceback).
 *
 * <p>Thrown by {@link DSPexPredict#describeProgram()}.
 */
public final class ProgramLoadException extends Exception {
  private static final long serialVersionUID = 1L;

  /** With the worker's error message and the exception that carried it. */
  public ProgramLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
