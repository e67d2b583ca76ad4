package org.dspex.beam.connector.protocol;

import org.dspex.beam.connector.codec.CodecException;
import org.dspex.beam.connector.codec.CorruptedPayloadException;

/**
 * A codec error met in a message, with the protocol's context the codec does not know: the peer and
 * the request (or stream chunk) it concerns. Its {@link #errorName()} and {@link #detail()} are the
 * codec error's ({@code CorruptedPayload}, {@code EncodingError}), which is its {@link #getCause()
 * cause}; so the names and messages a caller sees are the codec's, prefixed by the peer.
 *
 * <p>The reader also reports bytes that decode but break the protocol's rules for them (a header's
 * {@code body} that is not a list, a REF map without its keys) this way, as {@code
 * CorruptedPayload} ({@link #corrupted(String)}).
 */
public final class PayloadException extends ProtocolException {
  private final CodecException codecError;

  /** Wraps a codec error, keeping its name and message. */
  public PayloadException(CodecException codecError) {
    super(Checks.checkNotNull(codecError, "codecError").getMessage(), codecError);
    this.codecError = codecError;
  }

  /** A {@code CorruptedPayload} error found by the protocol layer in decoded bytes. */
  public static PayloadException corrupted(String detail) {
    return new PayloadException(new CorruptedPayloadException(detail));
  }

  /** The codec error, which is also the cause. */
  public CodecException codecError() {
    return codecError;
  }

  @Override
  public String errorName() {
    return codecError.errorName();
  }
}
