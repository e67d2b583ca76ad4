package org.dspex.beam.connector.codec;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Bytes to values and back for one payload format ({@code docs/protocol.md} section 3), registered
 * with its format in {@link ContentFormat}. Codecs know nothing of frames, lengths, peers or
 * requests; the protocol layer above does. Their errors are {@link CodecException}s.
 *
 * <p>Values follow the shared value model: {@code null}, {@link Boolean}, {@link Long}, {@link
 * Double}, {@link String}, {@code byte[]}, {@code List<Object>} and {@code Map<String, Object>}
 * (insertion order). Encoders also accept {@link Integer}, {@link Short}, {@link Byte} and {@link
 * Float} (widened). Arrow and NumPy have their own value types ({@link ArrowTable}, {@link NdArray}).
 *
 * <p>Codecs are immutable and thread-safe.
 */
public interface Codec extends AutoCloseable {
  /** The content format this codec reads and writes. */
  ContentFormat format();

  /**
   * Encodes one value; the result is a heap buffer from position 0 to its limit.
   *
   * @throws EncodingException when the format cannot carry the value; nothing has been written
   */
  ByteBuffer encode(Object value) throws EncodingException;

  /**
   * Encodes a value known by {@code name} (a body's name, or its path in a header such as {@code
   * args.inputs}): an error names the offending field below it, and a format that needs a name for
   * the value itself takes it from here (Arrow: a list of scalars becomes one column of that name).
   * By default the name is not needed.
   *
   * @throws EncodingException when the format cannot carry the value; nothing has been written
   */
  default ByteBuffer encode(Object value, String name) throws EncodingException {
    return encode(value);
  }

  /**
   * Decodes the payload's remaining bytes (the buffer itself is left as is). Decoders may return
   * values that share the payload's memory (NumPy data): the payload must not be modified later.
   *
   * @throws CorruptedPayloadException when the bytes are not a valid payload of this format
   */
  Object decode(ByteBuffer payload) throws CorruptedPayloadException;

  /**
   * Decodes a payload that must hold a map, such as a message header. Only formats that {@link
   * ContentFormat#mayCarryHeader() may carry a header} implement it.
   *
   * @throws CorruptedPayloadException when the bytes are not a valid payload or not a map
   * @throws UnsupportedOperationException for a format that carries no header
   */
  default Map<String, Object> decodeMap(ByteBuffer payload) throws CorruptedPayloadException {
    throw new UnsupportedOperationException(format().wireName() + " cannot carry a header");
  }

  /** Releases what the codec holds (Arrow's allocator); by default nothing. */
  @Override
  default void close() {}
}
