package org.dspex.beam.connector.codec;

import java.nio.ByteBuffer;
import org.dspex.beam.connector.protocol.CorruptedPayloadException;
import org.dspex.beam.connector.protocol.EncodingException;
import org.dspex.beam.connector.protocol.Protocol;

/**
 * Bytes to values and back for one payload format ({@code docs/protocol.md} section 3). Codecs know
 * nothing of frames, lengths or peers; the frame layer does.
 *
 * <p>Values follow the shared value model: {@code null}, {@link Boolean}, {@link Long}, {@link
 * Double}, {@link String}, {@code byte[]}, {@code List<Object>} and {@code Map<String, Object>}
 * (insertion order). Encoders also accept {@link Integer}, {@link Short}, {@link Byte} and {@link
 * Float} (widened). Arrow and NumPy have their own value types ({@link ArrowTable}, {@link NdArray}).
 *
 * <p>Codecs are immutable and thread-safe.
 */
public interface Codec {
  /** The content format this codec reads and writes. */
  Protocol format();

  /**
   * Encodes one value; the result is a heap buffer from position 0 to its limit.
   *
   * @throws EncodingException when the format cannot carry the value; nothing has been written
   */
  ByteBuffer encode(Object value) throws EncodingException;

  /**
   * Decodes the payload's remaining bytes (the buffer itself is left as is). Decoders may return
   * values that share the payload's memory (NumPy data): the payload must not be modified later.
   *
   * @throws CorruptedPayloadException when the bytes are not a valid payload of this format
   */
  Object decode(ByteBuffer payload) throws CorruptedPayloadException;
}
