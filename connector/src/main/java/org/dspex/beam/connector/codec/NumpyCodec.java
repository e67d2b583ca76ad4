package org.dspex.beam.connector.codec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * NPY version 1.0 bodies ({@code docs/protocol.md} section 3.4), byte for byte as numpy's {@code
 * write_array} writes them, so that the golden frames compare exactly.
 *
 * <p>numpy's header is {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}, then
 * {@code 21 - len(repr(shape[0]))} spaces it keeps so that the array can grow in place (none for a
 * 0-d array), then the padding spaces and a newline that align the data to 64 bytes. The padding is
 * {@code 64 - (10 + len + 1) % 64}, so an already aligned header still gets 64 spaces: numpy does
 * that too.
 *
 * <p>Encoding accepts an {@link NdArray}, {@code float[][]}, {@code float[]}, {@code double[][]},
 * {@code double[]}, {@code long[]} and {@code int[]}, and copies the elements once, into the
 * payload. Decoding checks magic, version, descr, {@code fortran_order} and the exact data length,
 * and returns an {@link NdArray} that wraps the payload without copying.
 */
public final class NumpyCodec implements Codec {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int PREAMBLE = 10;
  private static final int ALIGN = 64;
  private static final int GROWTH_AXIS_MAX_DIGITS = 21;

  @Override
  public ContentFormat format() {
    return ContentFormat.NUMPY;
  }

  /** Whether {@code value} is something this codec encodes (what {@code AUTO} sends as NUMPY). */
  public static boolean isArray(Object value) {
    return value instanceof NdArray
        || value instanceof float[][]
        || value instanceof float[]
        || value instanceof double[][]
        || value instanceof double[]
        || value instanceof long[]
        || value instanceof int[];
  }

  @Override
  public ByteBuffer encode(Object value) throws EncodingException {
    NdArray array = toNdArray(value);
    byte[] header = header(array.dtype(), array.shape());
    ByteBuffer data = array.rawData();
    byte[] out = new byte[header.length + data.remaining()];
    System.arraycopy(header, 0, out, 0, header.length);
    data.get(out, header.length, data.remaining());
    return ByteBuffer.wrap(out);
  }

  private static NdArray toNdArray(Object value) throws EncodingException {
    try {
      if (value instanceof NdArray) {
        return (NdArray) value;
      } else if (value instanceof float[][]) {
        return NdArray.ofFloats((float[][]) value);
      } else if (value instanceof float[]) {
        return NdArray.ofFloats((float[]) value);
      } else if (value instanceof double[][]) {
        return NdArray.ofDoubles((double[][]) value);
      } else if (value instanceof double[]) {
        return NdArray.ofDoubles((double[]) value);
      } else if (value instanceof long[]) {
        return NdArray.ofLongs((long[]) value);
      } else if (value instanceof int[]) {
        return NdArray.ofInts((int[]) value);
      }
    } catch (IllegalArgumentException e) {
      throw new EncodingException("cannot encode as NPY: " + e.getMessage(), e);
    }
    throw new EncodingException(
        "cannot encode " + CodecErrors.kind(value) + " as NPY: a numeric array or NdArray is needed");
  }

  /** The preamble and header numpy writes for this dtype and shape, data offset included. */
  static byte[] header(NpyDtype dtype, long[] shape) {
    StringBuilder h =
        new StringBuilder("{'descr': '")
            .append(dtype.descr())
            .append("', 'fortran_order': False, 'shape': ")
            .append(NdArray.shapeRepr(shape))
            .append(", }");
    if (shape.length > 0) {
      h.append(" ".repeat(GROWTH_AXIS_MAX_DIGITS - Long.toString(shape[0]).length()));
    }
    int hlen = h.length() + 1;
    int pad = ALIGN - ((PREAMBLE + hlen) % ALIGN);
    h.append(" ".repeat(pad)).append('\n');
    int headerLen = h.length();
    byte[] out = new byte[PREAMBLE + headerLen];
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    out[6] = 1;
    out[7] = 0;
    out[8] = (byte) headerLen;
    out[9] = (byte) (headerLen >>> 8);
    byte[] ascii = h.toString().getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(ascii, 0, out, PREAMBLE, ascii.length);
    return out;
  }

  @Override
  public NdArray decode(ByteBuffer payload) throws CorruptedPayloadException {
    ByteBuffer b = payload.slice().order(ByteOrder.LITTLE_ENDIAN);
    if (b.remaining() < PREAMBLE) {
      throw CodecErrors.corrupted(payload, "NPY image shorter than its 10-byte preamble", null);
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (b.get(i) != MAGIC[i]) {
        throw CodecErrors.corrupted(payload, "not an NPY image (bad magic)", null);
      }
    }
    if (b.get(6) != 1 || b.get(7) != 0) {
      throw CodecErrors.corrupted(
          payload, String.format("NPY version %d.%d, only 1.0 is accepted", b.get(6), b.get(7)), null);
    }
    int headerLen = Short.toUnsignedInt(b.getShort(8));
    if (PREAMBLE + headerLen > b.remaining()) {
      throw CodecErrors.corrupted(
          payload, "NPY header of " + headerLen + " bytes runs past the payload", null);
    }
    byte[] raw = new byte[headerLen];
    b.get(PREAMBLE, raw);
    Header h;
    try {
      h = new HeaderParser(new String(raw, StandardCharsets.ISO_8859_1)).parse();
    } catch (IllegalArgumentException e) {
      throw CodecErrors.corrupted(payload, "bad NPY header: " + e.getMessage(), null);
    }
    NpyDtype dtype = NpyDtype.fromDescr(h.descr);
    if (dtype == null) {
      throw CodecErrors.corrupted(
          payload, "NPY descr '" + h.descr + "' is not one of <f4, <f8, <i4, <i8", null);
    }
    if (h.fortranOrder) {
      throw CodecErrors.corrupted(payload, "NPY array in Fortran order (only C order is accepted)", null);
    }
    long expected = NdArray.byteSize(dtype, h.shape);
    int dataBytes = b.remaining() - PREAMBLE - headerLen;
    if (expected != dataBytes) {
      throw CodecErrors.corrupted(
          payload,
          String.format(
              "NPY shape %s of %s needs %d data bytes, payload has %d",
              NdArray.shapeRepr(h.shape), h.descr, expected, dataBytes),
          null);
    }
    return NdArray.of(dtype, h.shape, b.position(PREAMBLE + headerLen).slice());
  }

  private static final class Header {
    String descr;
    Boolean fortranOrder;
    long[] shape;
  }

  /**
   * Reads the Python dict literal of an NPY header. numpy reads it with {@code ast.literal_eval},
   * so any key order and spacing is accepted here too, but only the three keys numpy writes.
   */
  private static final class HeaderParser {
    private final String s;
    private int i;

    HeaderParser(String s) {
      this.s = s;
    }

    Header parse() {
      Header h = new Header();
      ws();
      expect('{');
      while (true) {
        ws();
        if (peek() == '}') {
          i++;
          break;
        }
        String key = quoted();
        ws();
        expect(':');
        ws();
        switch (key) {
          case "descr":
            h.descr = quoted();
            break;
          case "fortran_order":
            h.fortranOrder = bool();
            break;
          case "shape":
            h.shape = tuple();
            break;
          default:
            throw new IllegalArgumentException("unexpected key '" + key + "'");
        }
        ws();
        if (peek() == ',') {
          i++;
        } else if (peek() != '}') {
          throw new IllegalArgumentException("expected ',' or '}' at " + i);
        }
      }
      ws();
      if (i != s.length()) {
        throw new IllegalArgumentException("unexpected text after the dict at " + i);
      }
      if (h.descr == null || h.fortranOrder == null || h.shape == null) {
        throw new IllegalArgumentException("missing one of 'descr', 'fortran_order', 'shape'");
      }
      return h;
    }

    private char peek() {
      if (i >= s.length()) {
        throw new IllegalArgumentException("header ends early");
      }
      return s.charAt(i);
    }

    private void expect(char c) {
      if (peek() != c) {
        throw new IllegalArgumentException("expected '" + c + "' at " + i);
      }
      i++;
    }

    private void ws() {
      while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\n' || s.charAt(i) == '\t')) {
        i++;
      }
    }

    private String quoted() {
      char q = peek();
      if (q != '\'' && q != '"') {
        throw new IllegalArgumentException("expected a string at " + i);
      }
      int end = s.indexOf(q, i + 1);
      if (end < 0) {
        throw new IllegalArgumentException("unterminated string at " + i);
      }
      String v = s.substring(i + 1, end);
      i = end + 1;
      return v;
    }

    private boolean bool() {
      if (s.startsWith("True", i)) {
        i += 4;
        return true;
      }
      if (s.startsWith("False", i)) {
        i += 5;
        return false;
      }
      throw new IllegalArgumentException("expected True or False at " + i);
    }

    private long[] tuple() {
      expect('(');
      List<Long> dims = new ArrayList<>();
      boolean trailingComma = false;
      while (true) {
        ws();
        if (peek() == ')') {
          i++;
          break;
        }
        int start = i;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
          i++;
        }
        if (start == i) {
          throw new IllegalArgumentException("expected a dimension at " + i);
        }
        dims.add(Long.parseLong(s.substring(start, i)));
        ws();
        trailingComma = peek() == ',';
        if (trailingComma) {
          i++;
        } else if (peek() != ')') {
          throw new IllegalArgumentException("expected ',' or ')' at " + i);
        }
      }
      if (dims.size() == 1 && !trailingComma) {
        throw new IllegalArgumentException("shape (n) is not a tuple; numpy writes (n,)");
      }
      return dims.stream().mapToLong(Long::longValue).toArray();
    }
  }
}
