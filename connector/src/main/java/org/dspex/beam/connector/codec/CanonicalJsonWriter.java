package org.dspex.beam.connector.codec;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * Writes canonical JSON ({@code docs/protocol.md} section 3.1) straight to UTF-8 bytes.
 *
 * <p>Hand-written rather than on Jackson's generator because Jackson 2.15 (the version Beam 2.62
 * pins) writes a character outside the BMP as two escaped surrogates ({@code \ud83d\ude00}) where
 * the specification, like Python's {@code json.dumps(ensure_ascii=False)}, writes its raw UTF-8;
 * the switch that fixes it arrived in 2.18. Writing JSON is small enough to own outright.
 *
 * <p>Throws {@link EncodingFailure} for what JSON cannot carry; {@link JsonCodec} turns it into
 * the public error with the field's path. One instance per encoding; not thread-safe.
 */
final class CanonicalJsonWriter {
  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] NULL = {'n', 'u', 'l', 'l'};
  private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
  private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};

  /** For ASCII: 0 = raw, 'u' = six-character escape, other = the letter after the backslash. */
  private static final byte[] ESCAPES = new byte[128];

  static {
    for (int c = 0; c < 0x20; c++) {
      ESCAPES[c] = 'u';
    }
    ESCAPES['"'] = '"';
    ESCAPES['\\'] = '\\';
    ESCAPES['\b'] = 'b';
    ESCAPES['\t'] = 't';
    ESCAPES['\n'] = 'n';
    ESCAPES['\f'] = 'f';
    ESCAPES['\r'] = 'r';
  }

  private final int maxDepth;
  private byte[] buf = new byte[256];
  private int count;

  CanonicalJsonWriter(int maxDepth) {
    this.maxDepth = maxDepth;
  }

  ByteBuffer write(Object value) {
    value(value, 0);
    return ByteBuffer.wrap(buf, 0, count).slice();
  }

  private void value(Object v, int depth) {
    if (v == null) {
      raw(NULL);
    } else if (v instanceof String) {
      string((String) v);
    } else if (v instanceof Boolean) {
      raw((Boolean) v ? TRUE : FALSE);
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      ascii(Long.toString(((Number) v).longValue()));
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (!Double.isFinite(d)) {
        throw new EncodingFailure(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
      }
      ascii(PythonFloatRepr.format(d));
    } else if (v instanceof Map) {
      checkDepth(depth);
      put((byte) '{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        Object key = e.getKey();
        if (!(key instanceof String)) {
          throw new EncodingFailure("a map key of type " + JsonCodec.typeName(key) + " (keys are strings)");
        }
        if (!first) {
          put((byte) ',');
        }
        first = false;
        try {
          string((String) key);
          put((byte) ':');
          value(e.getValue(), depth + 1);
        } catch (EncodingFailure f) {
          throw f.inKey((String) key);
        }
      }
      put((byte) '}');
    } else if (v instanceof List) {
      checkDepth(depth);
      put((byte) '[');
      int i = 0;
      for (Object item : (List<?>) v) {
        if (i > 0) {
          put((byte) ',');
        }
        try {
          value(item, depth + 1);
        } catch (EncodingFailure f) {
          throw f.atIndex(i);
        }
        i++;
      }
      put((byte) ']');
    } else if (v instanceof byte[] || v instanceof ByteBuffer) {
      throw new EncodingFailure("bytes");
    } else {
      throw new EncodingFailure("a value of type " + JsonCodec.typeName(v));
    }
  }

  private void checkDepth(int depth) {
    if (depth >= maxDepth) {
      throw new EncodingFailure("a value nested deeper than " + maxDepth + " levels");
    }
  }

  private void string(String s) {
    int n = s.length();
    // Worst case per char: 6 bytes (an escape); 3 for BMP, 4 per surrogate pair.
    ensure((long) n * 6 + 2);
    byte[] b = buf;
    int p = count;
    b[p++] = '"';
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        byte esc = ESCAPES[c];
        if (esc == 0) {
          b[p++] = (byte) c;
        } else if (esc == 'u') {
          b[p++] = '\\';
          b[p++] = 'u';
          b[p++] = '0';
          b[p++] = '0';
          b[p++] = HEX[c >> 4];
          b[p++] = HEX[c & 0xf];
        } else {
          b[p++] = '\\';
          b[p++] = esc;
        }
      } else if (c < 0x800) {
        b[p++] = (byte) (0xc0 | (c >> 6));
        b[p++] = (byte) (0x80 | (c & 0x3f));
      } else if (!Character.isSurrogate(c)) {
        b[p++] = (byte) (0xe0 | (c >> 12));
        b[p++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        b[p++] = (byte) (0x80 | (c & 0x3f));
      } else {
        char low = i + 1 < n ? s.charAt(i + 1) : 0;
        if (!Character.isHighSurrogate(c) || !Character.isLowSurrogate(low)) {
          count = p;
          throw new EncodingFailure(
              String.format("a string with an unpaired surrogate U+%04X at char %d", (int) c, i));
        }
        int cp = Character.toCodePoint(c, low);
        i++;
        b[p++] = (byte) (0xf0 | (cp >> 18));
        b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
        b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
        b[p++] = (byte) (0x80 | (cp & 0x3f));
      }
    }
    b[p++] = '"';
    count = p;
  }

  private void ascii(String s) {
    int n = s.length();
    ensure(n);
    for (int i = 0; i < n; i++) {
      buf[count++] = (byte) s.charAt(i);
    }
  }

  private void raw(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, count, bytes.length);
    count += bytes.length;
  }

  private void put(byte x) {
    ensure(1);
    buf[count++] = x;
  }

  private void ensure(long extra) {
    long need = count + extra;
    if (need > buf.length) {
      if (need > Integer.MAX_VALUE - 8) {
        throw new EncodingFailure("a JSON text above 2 GiB, the limit of a Java array");
      }
      buf = java.util.Arrays.copyOf(buf, (int) Math.max(need, Math.min(2L * buf.length, Integer.MAX_VALUE - 8)));
    }
  }
}
