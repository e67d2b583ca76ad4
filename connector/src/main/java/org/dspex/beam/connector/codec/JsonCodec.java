package org.dspex.beam.connector.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Canonical JSON ({@code docs/protocol.md} section 3.1): a canonical writer of its own (see
 * {@link CanonicalJsonWriter} for why not Jackson's generator) and Jackson's streaming parser.
 *
 * <p>Encoding is canonical so that Java and Python write the same bytes for the same value: no
 * whitespace, keys in map order, raw UTF-8 (including {@code /} and U+007F), the short escapes
 * {@code \b \t \n \f \r}, other control characters as <code>&#92;u00XX</code> in lowercase hex, and floats
 * as Python's {@code repr} writes them ({@link PythonFloatRepr}). NaN, infinities, bytes and
 * unpaired surrogates cannot be carried: encoding fails with an {@link EncodingException} naming
 * the field's path ({@code args.inputs[3].score}).
 *
 * <p>Decoding is strict RFC 8259 over strict UTF-8: one value, nothing after it but whitespace, no
 * BOM. A number with {@code .}, {@code e} or {@code E} becomes a {@link Double}, any other a {@link
 * Long} (beyond 64 bits is {@link CorruptedPayloadException}); objects become insertion-ordered
 * maps.
 */
public final class JsonCodec implements Codec {
  /** Nesting deeper than this is refused both ways, before the stack is. */
  public static final int MAX_DEPTH = 1000;

  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
          .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  // A JSON body may be as large as a frame; Jackson's default caps strings at 20M chars.
                  .maxStringLength(Integer.MAX_VALUE)
                  .maxNestingDepth(MAX_DEPTH)
                  .build())
          .build();

  @Override
  public ContentFormat format() {
    return ContentFormat.JSON;
  }

  @Override
  public ByteBuffer encode(Object value) throws EncodingException {
    return encode(value, "");
  }

  /**
   * Encodes {@code value}; an error names the offending field below {@code rootPath} (e.g. {@code
   * "args.inputs"} gives {@code args.inputs[3].score}).
   */
  @Override
  public ByteBuffer encode(Object value, String rootPath) throws EncodingException {
    try {
      return new CanonicalJsonWriter(MAX_DEPTH).write(value);
    } catch (EncodingFailure f) {
      throw f.toException(rootPath, "JSON");
    }
  }

  /** Encodes to a new array; convenient for small headers. */
  public byte[] encodeToBytes(Object value) throws EncodingException {
    ByteBuffer b = encode(value);
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /**
   * Whether {@code value} is JSON-safe: only the value model's JSON types, no NaN or infinity, no
   * bytes. (Unpaired surrogates are not looked for; they fail every format alike.)
   */
  public static boolean canEncode(Object value) {
    return canEncode(value, 0);
  }

  private static boolean canEncode(Object v, int depth) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long
        || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return true;
    }
    if (v instanceof Double || v instanceof Float) {
      return Double.isFinite(((Number) v).doubleValue());
    }
    if (depth >= MAX_DEPTH) {
      return false;
    }
    if (v instanceof Map) {
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!(e.getKey() instanceof String) || !canEncode(e.getValue(), depth + 1)) {
          return false;
        }
      }
      return true;
    }
    if (v instanceof List) {
      for (Object item : (List<?>) v) {
        if (!canEncode(item, depth + 1)) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  static String typeName(Object v) {
    return v == null ? "null" : v.getClass().getName();
  }

  @Override
  public Object decode(ByteBuffer payload) throws CorruptedPayloadException {
    byte[] array;
    int off;
    int len = payload.remaining();
    if (payload.hasArray()) {
      array = payload.array();
      off = payload.arrayOffset() + payload.position();
    } else {
      // A mapped REF body; JSON bodies are small (AUTO sends big ones in other formats).
      array = new byte[len];
      payload.duplicate().get(array);
      off = 0;
    }
    checkEncoding(payload, array, off, len);
    try (JsonParser p = FACTORY.createParser(array, off, len)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        throw CodecErrors.corrupted(payload, "empty JSON payload", null);
      }
      Object value = read(p, first);
      if (p.nextToken() != null) {
        throw CodecErrors.corrupted(
            payload, "trailing data after the JSON value at byte " + p.currentLocation().getByteOffset(), null);
      }
      return value;
    } catch (CorruptedPayloadException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw CodecErrors.corrupted(payload, "invalid JSON: " + firstLine(e.getMessage()), e);
    }
  }

  /** Decodes a payload that must hold a JSON object, such as a message header. */
  @Override
  @SuppressWarnings("unchecked")
  public Map<String, Object> decodeMap(ByteBuffer payload) throws CorruptedPayloadException {
    Object v = decode(payload);
    if (!(v instanceof Map)) {
      throw CodecErrors.corrupted(payload, "expected a JSON object, found " + CodecErrors.kind(v), null);
    }
    return (Map<String, Object>) v;
  }

  private static void checkEncoding(ByteBuffer payload, byte[] a, int off, int len)
      throws CorruptedPayloadException {
    if (len >= 3 && (a[off] & 0xff) == 0xef && (a[off + 1] & 0xff) == 0xbb && (a[off + 2] & 0xff) == 0xbf) {
      throw CodecErrors.corrupted(payload, "JSON payload starts with a UTF-8 BOM", null);
    }
    // Jackson would take NUL bytes up front for UTF-16 or UTF-32 and decode them as such.
    for (int i = 0; i < Math.min(4, len); i++) {
      if (a[off + i] == 0) {
        throw CodecErrors.corrupted(payload, "invalid JSON: NUL byte at offset " + i, null);
      }
    }
    int bad = Strings.invalidUtf8(a, off, len);
    if (bad >= 0) {
      throw CodecErrors.corrupted(payload, "invalid UTF-8 at byte " + (bad - off), null);
    }
  }

  private static Object read(JsonParser p, JsonToken t) throws IOException {
    switch (t) {
      case START_OBJECT:
        {
          Map<String, Object> map = new LinkedHashMap<>();
          for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
            String name = p.currentName();
            map.put(name, read(p, p.nextToken()));
          }
          return map;
        }
      case START_ARRAY:
        {
          List<Object> list = new ArrayList<>();
          for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
            list.add(read(p, e));
          }
          return list;
        }
      case VALUE_STRING:
        return p.getText();
      case VALUE_NUMBER_INT:
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
          throw new IOException("integer " + p.getText() + " is beyond signed 64 bits");
        }
        return p.getLongValue();
      case VALUE_NUMBER_FLOAT:
        return p.getDoubleValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new IOException("unexpected token " + t);
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
