package org.dspex.beam.connector.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class NumpyCodecTest {
  private final NumpyCodec codec = new NumpyCodec();

  private static String header(ByteBuffer npy) {
    int len = Short.toUnsignedInt(npy.duplicate().order(ByteOrder.LITTLE_ENDIAN).getShort(8));
    byte[] h = new byte[len];
    npy.duplicate().position(10).get(h);
    return new String(h, StandardCharsets.US_ASCII);
  }

  @Test
  void givenFloatMatrix_thenHeaderAsNumpyWritesIt() throws Exception {
    ByteBuffer npy = codec.encode(new float[][] {{1, 2, 3}, {4, 5, 6}});
    // numpy 2.x: dict, 21 - len("2") growth spaces, padding to 64, newline (header_len 118).
    String expected =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + " ".repeat(58) + "\n";
    assertEquals(expected, header(npy));
    assertEquals(128 + 24, npy.remaining());
    byte[] magic = new byte[8];
    npy.duplicate().get(magic);
    assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, magic);
  }

  @Test
  void givenShapes_thenPythonTupleRepr() throws Exception {
    assertTrue(header(codec.encode(new long[] {1, 2, 3, 4, 5})).contains("'shape': (5,), }"));
    ByteBuffer scalar = codec.encode(NdArray.of(NpyDtype.FLOAT64, new long[0], ByteBuffer.allocate(8)));
    assertTrue(header(scalar).startsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (), }  "));
    assertEquals(0, (10 + header(scalar).length()) % 64);
  }

  @Test
  void givenHeaderThatWouldBeAligned_thenNumpyAddsSixtyFourSpaces() {
    // numpy pads with 64 - (10 + len + 1) % 64 spaces, never zero. For shape (0, 1 x 35) the dict
    // and its 20 growth spaces leave the header exactly aligned, so numpy writes 64 more
    // (header_len 246, checked against numpy 2.4).
    long[] shape = new long[36];
    java.util.Arrays.fill(shape, 1);
    shape[0] = 0;
    byte[] h = NumpyCodec.header(NpyDtype.FLOAT32, shape);
    assertEquals(256, h.length);
    String text = new String(h, 10, h.length - 10, StandardCharsets.US_ASCII);
    assertTrue(text.endsWith("), }" + " ".repeat(20 + 64) + "\n"), text);
  }

  @Test
  void givenEncodedArray_thenDecodedAsViewWithoutCopy() throws Exception {
    ByteBuffer npy = codec.encode(new double[] {0.5, -1.0});
    NdArray a = codec.decode(npy);
    assertEquals(NpyDtype.FLOAT64, a.dtype());
    assertArrayEquals(new double[] {0.5, -1.0}, a.toDoubleArray());
    // The decoded data shares the payload's memory.
    npy.order(ByteOrder.LITTLE_ENDIAN).putDouble(npy.limit() - 8, 42.0);
    assertEquals(42.0, a.toDoubleArray()[1]);
  }

  @Test
  void givenMatrixRoundTrip_thenSameFloats() throws Exception {
    float[][] m = {{Float.NaN, -0f}, {Float.MIN_VALUE, Float.MAX_VALUE}};
    float[][] back = codec.decode(codec.encode(m)).toFloatMatrix();
    for (int i = 0; i < m.length; i++) {
      assertArrayEquals(m[i], back[i]);
    }
    assertArrayEquals(new int[] {1, -2}, toInts(codec.decode(codec.encode(new int[] {1, -2})).toLongArray()));
  }

  private static int[] toInts(long[] a) {
    int[] out = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = (int) a[i];
    }
    return out;
  }

  @Test
  void givenRaggedMatrix_thenEncodingError() {
    assertThrows(
        EncodingException.class,
        () -> codec.encode(new float[][] {{1}, {1, 2}}));
  }

  @Test
  void givenBadImages_thenCorruptedPayload() throws Exception {
    ByteBuffer good = codec.encode(new float[][] {{1, 2}, {3, 4}});
    byte[] g = new byte[good.remaining()];
    good.get(g);
    assertCorrupted(java.util.Arrays.copyOf(g, 8), "shorter");
    byte[] magic = g.clone();
    magic[5] = 'Z';
    assertCorrupted(magic, "magic");
    byte[] version = g.clone();
    version[6] = 2;
    assertCorrupted(version, "version");
    assertCorrupted(java.util.Arrays.copyOf(g, g.length - 1), "data bytes");
    assertCorrupted(replace(g, "'<f4'", "'>f4'"), "descr");
    assertCorrupted(replace(g, "False", "True "), "Fortran");
    assertCorrupted(replace(g, "(2, 2)", "(2)   "), "tuple");
  }

  private static byte[] replace(byte[] image, String from, String to) {
    String s = new String(image, StandardCharsets.ISO_8859_1);
    return s.replace(from, to).getBytes(StandardCharsets.ISO_8859_1);
  }

  private void assertCorrupted(byte[] image, String expectedWord) {
    CorruptedPayloadException e =
        assertThrows(CorruptedPayloadException.class, () -> codec.decode(ByteBuffer.wrap(image)));
    assertTrue(e.getMessage().contains(expectedWord), e.getMessage());
  }
}
