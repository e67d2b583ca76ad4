package org.dspex.beam.connector.protocol;

/**
 * A REF frame's {@code offset}/{@code length} are negative or do not lie inside the referenced file.
 *
 * <p>Specification name: {@code RefOutOfRange} ({@code docs/protocol.md} section 8).
 */
public class RefOutOfRangeException extends ProtocolException {
  /** The specification name of this error. */
  public static final String NAME = "RefOutOfRange";

  /** An error with the given description (the peer is attached separately). */
  public RefOutOfRangeException(String detail) {
    super(detail);
  }

  /** An error with the given description and cause. */
  public RefOutOfRangeException(String detail, Throwable cause) {
    super(detail, cause);
  }

  @Override
  public String errorName() {
    return NAME;
  }
}
