package org.dspex.beam.connector.codec;

import java.io.IOException;
import java.util.Objects;

/**
 * Root of the codec error family: a value a format cannot carry ({@link EncodingException}) or bytes
 * that are not a valid payload of their format ({@link CorruptedPayloadException}), as Netty keeps
 * {@code CorruptedFrameException} under {@code DecoderException} with its codecs.
 *
 * <p>Each subclass stands for one error name of {@code docs/protocol.md} section 8, returned by
 * {@link #errorName()}. Codecs know nothing of frames, peers or requests; the protocol layer wraps a
 * codec error it meets in a message with that context ({@code protocol.PayloadException}), keeping
 * this error's name and message.
 *
 * <p>Codec errors are {@link IOException}s because they are failures of what came over (or is to go
 * over) a channel, handled by the same code as a broken pipe.
 */
public abstract class CodecException extends IOException {
  protected CodecException(String detail, Throwable cause) {
    super(Objects.requireNonNull(detail, "detail"), cause);
  }

  /** The name of this error in {@code docs/protocol.md} section 8, e.g. {@code "EncodingError"}. */
  public abstract String errorName();
}
