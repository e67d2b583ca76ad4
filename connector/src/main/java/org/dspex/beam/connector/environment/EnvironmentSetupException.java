package org.dspex.beam.connector.environment;

/** The workers' venv could not be built or used; the message names the venv, the step and what to set. */
public class EnvironmentSetupException extends Exception {
  private static final long serialVersionUID = 1L;

  /** A failure described by {@code message}. */
  public EnvironmentSetupException(String message, Throwable cause) {
    super(message, cause);
  }
}
