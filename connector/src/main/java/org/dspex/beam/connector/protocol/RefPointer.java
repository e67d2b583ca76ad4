package org.dspex.beam.connector.protocol;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The payload of a REF frame ({@code docs/protocol.md} section 4): where in the spill directory a
 * body lives and in which content format.
 *
 * @param path relative to the receiver's spill directory
 * @param offset where the body starts in the file
 * @param length the body's length in bytes
 * @param format the content format: json, msgpack, arrow or numpy
 */
public record RefPointer(String path, long offset, long length, Protocol format) {
  /** Checks that {@code format} is a content format. */
  public RefPointer {
    Checks.checkNotNull(path, "path");
    Checks.checkNotNull(format, "format");
    Checks.checkArgument(
        format.isContentFormat(), "a REF format must be a content format, was %s", format.wireName());
  }

  /** The canonical map, keys in the order of the specification: path, offset, length, format. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", path);
    m.put("offset", offset);
    m.put("length", length);
    m.put("format", format.wireName());
    return m;
  }

  /**
   * Reads a decoded REF map.
   *
   * @param payload the frame's payload, shown in the error
   * @throws CorruptedPayloadException when a key is missing or of the wrong type
   */
  public static RefPointer fromMap(Map<String, Object> map, ByteBuffer payload)
      throws CorruptedPayloadException {
    Object path = map.get("path");
    Object offset = map.get("offset");
    Object length = map.get("length");
    Object format = map.get("format");
    if (!(path instanceof String)
        || !(offset instanceof Long)
        || !(length instanceof Long)
        || !(format instanceof String)) {
      throw new CorruptedPayloadException(
          "REF map needs path (str), offset (int), length (int) and format (str), got "
              + map
              + "; first bytes: "
              + FirstBytes.render(payload));
    }
    Protocol f = Protocol.contentFormat((String) format);
    if (f == null) {
      throw new CorruptedPayloadException(
          "REF format '" + format + "' is not json, msgpack, arrow or numpy; first bytes: "
              + FirstBytes.render(payload));
    }
    return new RefPointer((String) path, (Long) offset, (Long) length, f);
  }
}
