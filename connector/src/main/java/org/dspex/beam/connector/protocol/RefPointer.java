package org.dspex.beam.connector.protocol;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.FirstBytes;

/**
 * The payload of a REF frame ({@code docs/protocol.md} section 4): where in the spill directory a
 * body lives and in which content format.
 *
 * @param path relative to the receiver's spill directory
 * @param offset where the body starts in the file
 * @param length the body's length in bytes
 * @param format the body's content format
 */
public record RefPointer(String path, long offset, long length, ContentFormat format) {
  /** Checks that path and format are given. */
  public RefPointer {
    Checks.checkNotNull(path, "path");
    Checks.checkNotNull(format, "format");
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
   * @throws PayloadException {@code CorruptedPayload}, when a key is missing or of the wrong type
   */
  public static RefPointer fromMap(Map<String, Object> map, ByteBuffer payload)
      throws PayloadException {
    Object path = map.get("path");
    Object offset = map.get("offset");
    Object length = map.get("length");
    Object format = map.get("format");
    if (!(path instanceof String)
        || !(offset instanceof Long)
        || !(length instanceof Long)
        || !(format instanceof String)) {
      throw PayloadException.corrupted(
          "REF map needs path (str), offset (int), length (int) and format (str), got "
              + map
              + "; first bytes: "
              + FirstBytes.render(payload));
    }
    ContentFormat f = ContentFormat.ofWireName((String) format);
    if (f == null) {
      throw PayloadException.corrupted(
          "REF format '" + format + "' is not " + ContentFormat.wireNamesInProse() + "; first bytes: "
              + FirstBytes.render(payload));
    }
    return new RefPointer((String) path, (Long) offset, (Long) length, f);
  }
}
