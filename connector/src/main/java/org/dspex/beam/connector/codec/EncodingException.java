package org.dspex.beam.connector.codec;

/**
 * A value the chosen format cannot carry: NaN or Infinity in JSON, a mixed Arrow column, an unpaired
 * surrogate, a type outside the value model. Found before anything is written, so the channel is
 * untouched. The message names the offending field ({@code args.inputs[3].score}) where there is
 * one.
 *
 * <p>Specification name: {@code EncodingError} ({@code docs/protocol.md} section 8).
 */
public class EncodingException extends CodecException {
  /** The specification name of this error. */
  public static final String NAME = "EncodingError";

  /** An error with the given description. */
  public EncodingException(String detail) {
    super(detail, null);
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
