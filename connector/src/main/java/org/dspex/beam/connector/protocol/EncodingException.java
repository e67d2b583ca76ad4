package org.dspex.beam.connector.protocol;

/**
 * A value the chosen format cannot carry: NaN or Infinity in JSON, a mixed Arrow column, an unpaired surrogate, a type outside the value model. Found before anything is written, so the channel is untouched.
 *
 * <p>Specification name: {@code EncodingError} ({@code docs/protocol.md} section 8).
 */
public class EncodingException extends ProtocolException {
  /** The specification name of this error. */
  public static final String NAME = "EncodingError";

  /** An error with the given description (the peer is attached separately). */
  public EncodingException(String detail) {
    super(detail);
  }

  /** An error with the given description and cause. */
  public EncodingException(String detail, Throwable cause) {
    super(detail, cause);
  }

  @Override
  public String errorName() {
    return NAME;
  }
}
