package org.dspex.beam.connector.codec;

/**
 * A payload that is not valid for its type: bad JSON or UTF-8, bad MessagePack, a bad Arrow stream
 * or NPY image, a header that is not a map, a REF map with missing keys. The message shows the
 * payload's first bytes ({@link FirstBytes}). Found in a body, it fails that request only.
 *
 * <p>Specification name: {@code CorruptedPayload} ({@code docs/protocol.md} section 8).
 */
public class CorruptedPayloadException extends CodecException {
  /** The specification name of this error. */
  public static final String NAME = "CorruptedPayload";

  /** An error with the given description. */
  public CorruptedPayloadException(String detail) {
    super(detail, null);
  }

  /** An error with the given description and cause. */
  public CorruptedPayloadException(String detail, Throwable cause) {
    super(detail, cause);
  }

  @Override
  public String errorName() {
    return NAME;
  }
}
