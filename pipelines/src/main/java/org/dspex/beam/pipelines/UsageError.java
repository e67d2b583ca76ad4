package org.dspex.beam.pipelines;

/**
 * Bad usage the user can fix (a missing input, an unknown field, a bad signature, an output that
 * exists without {@code --overwrite}): the command reports it as one line and exits with 2.
 */
public final class UsageError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** With the one-line message shown after {@code dspex: error: }. */
  public UsageError(String message) {
    super(message);
  }

  /** With its cause, shown only with {@code --verbose}. */
  public UsageError(String message, Throwable cause) {
    super(message, cause);
  }
}
