package org.dspex.beam.connector.protocol;

/**
 * A frame out of place: a body frame where a header was expected, a stream frame inside a message, a body frame of another format than listed, or fewer body frames than listed. The channel is broken.
 *
 * <p>Specification name: {@code UnexpectedFrame} ({@code docs/protocol.md} section 8).
 */
public class UnexpectedFrameException extends ProtocolException {
  /** The specification name of this error. */
  public static final String NAME = "UnexpectedFrame";

  /** An error with the given description (the peer is attached separately). */
  public UnexpectedFrameException(String detail) {
    super(detail);
  }

  /** An error with the given description and cause. */
  public UnexpectedFrameException(String detail, Throwable cause) {
    super(detail, cause);
  }

  @Override
  public String errorName() {
    return NAME;
  }
}
