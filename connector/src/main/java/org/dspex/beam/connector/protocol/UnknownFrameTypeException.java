package org.dspex.beam.connector.protocol;

/**
 * A V2 frame whose type byte is not in the table of {@code docs/protocol.md} section 1.1; usually garbage on the channel. The channel is broken.
 *
 * <p>Specification name: {@code UnknownFrameType} ({@code docs/protocol.md} section 8).
 */
public class UnknownFrameTypeException extends ProtocolException {
  /** The specification name of this error. */
  public static final String NAME = "UnknownFrameType";

  /** An error with the given description (the peer is attached separately). */
  public UnknownFrameTypeException(String detail) {
    super(detail);
  }

  /** An error with the given description and cause. */
  public UnknownFrameTypeException(String detail, Throwable cause) {
    super(detail, cause);
  }

  @Override
  public String errorName() {
    return NAME;
  }
}
