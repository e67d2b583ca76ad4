package org.dspex.beam.connector.protocol;

/**
 * The stream ended inside a frame's prefix or payload. The channel is broken.
 *
 * <p>Specification name: {@code TruncatedFrame} ({@code docs/protocol.md} section 8).
 */
public class TruncatedFrameException extends ProtocolException {
  /** The specification name of this error. */
  public static final String NAME = "TruncatedFrame";

  /** An error with the given description (the peer is attached separately). */
  public TruncatedFrameException(String detail) {
    super(detail);
  }

  /** An error with the given description and cause. */
  public TruncatedFrameException(String detail, Throwable cause) {
    super(detail, cause);
  }

  @Override
  public String errorName() {
    return NAME;
  }
}
