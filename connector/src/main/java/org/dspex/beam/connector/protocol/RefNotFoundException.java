package org.dspex.beam.connector.protocol;

/**
 * A REF frame names a file that does not exist (or is not a regular file) in the spill directory.
 *
 * <p>Specification name: {@code RefNotFound} ({@code docs/protocol.md} section 8).
 */
public class RefNotFoundException extends ProtocolException {
  /** The specification name of this error. */
  public static final String NAME = "RefNotFound";

  /** An error with the given description (the peer is attached separately). */
  public RefNotFoundException(String detail) {
    super(detail);
  }

  /** An error with the given description and cause. */
  public RefNotFoundException(String detail, Throwable cause) {
    super(detail, cause);
  }

  @Override
  public String errorName() {
    return NAME;
  }
}
