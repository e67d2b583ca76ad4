package org.dspex.beam.transforms.optimize;

import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The compile failed: the worker reported an error (an optimizer or metric that raised, the compile
 * timeout), or no worker could serve it. The bundle fails with it; DSPex does not compile again by
 * itself, since a compile's LM calls are paid for.
 */
public final class CompileFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final @Nullable String errorType;

  /** {@code errorType}: the worker's error type ({@code MetricError}), null when the worker gave none. */
  public CompileFailedException(String message, @Nullable String errorType, Throwable cause) {
    super(message, cause);
    this.errorType = errorType;
  }

  /** The worker's error type ({@code MetricError}, {@code CompileTimeout}, ...), or null. */
  public @Nullable String errorType() {
    return errorType;
  }
}
