package org.dspex.beam.connector.protocol;

/**
 * A payload that is not valid for its type: bad JSON or UTF-8, bad MessagePack, a bad Arrow stream or NPY image, a header that is not a map, a REF map with missing keys. Found in a body, it fails that request only.
 *
 * <p>Specification name: {@code CorruptedPayload} ({@code docs/protocol.md} section 8).
 */
public class CorruptedPayloadException extends ProtocolException {
  /** The specification name of this error. */
  public static final String NAME = "CorruptedPayload";

  /** An error with the given description (the peer is attached separately). */
  public CorruptedPayloadException(String detail) {
    super(detail);
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
