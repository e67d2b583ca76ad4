package org.dspex.beam.connector.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MsgpackCodecTest {
  private final MsgpackCodec codec = new MsgpackCodec();

  private String hex(Object v) throws EncodingException {
    ByteBuffer b = codec.encode(v);
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return HexFormat.of().formatHex(out);
  }

  private Object decodeHex(String hex) throws CorruptedPayloadException {
    return codec.decode(ByteBuffer.wrap(HexFormat.of().parseHex(hex)));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "0, 00",
    "127, 7f",
    "128, cc80",
    "255, ccff",
    "256, cd0100",
    "65535, cdffff",
    "65536, ce00010000",
    "4294967295, ceffffffff",
    "4294967296, cf0000000100000000",
    "-1, ff",
    "-32, e0",
    "-33, d0df",
    "-128, d080",
    "-129, d1ff7f",
    "-32768, d18000",
    "-32769, d2ffff7fff",
    "-2147483648, d280000000",
    "-2147483649, d3ffffffff7fffffff",
  })
  void givenInteger_thenSmallestEncoding(long value, String hex) throws Exception {
    assertEquals(hex, hex(value));
    assertEquals(value, decodeHex(hex));
  }

  @Test
  void givenIntegerTypes_thenAllEncodedAsIntegers() throws Exception {
    assertEquals("93 05 d0 9c 01".replace(" ", ""), hex(List.of(5, (byte) -100, (short) 1)));
  }

  @Test
  void givenFloats_thenFloat64AndOneNaN() throws Exception {
    assertEquals("cb3ff8000000000000", hex(1.5f));
    assertEquals("cb7ff8000000000000", hex(Double.NaN));
    assertEquals("cb7ff8000000000000", hex(Double.longBitsToDouble(0xfff0000000000123L)));
    assertEquals("cb8000000000000000", hex(-0.0));
  }

  @Test
  void givenStrings_thenHeaderChosenFromUtf8Length() throws Exception {
    assertEquals("a0", hex(""));
    // 31 chars but 32 UTF-8 bytes: str8, not fixstr.
    String s = "é" + "x".repeat(30);
    assertTrue(hex(s).startsWith("d920"), hex(s));
    assertTrue(hex("x".repeat(256)).startsWith("da0100"));
    assertTrue(hex("x".repeat(65536)).startsWith("db00010000"));
  }

  @Test
  void givenBytesListsMaps_thenSmallestContainers() throws Exception {
    assertEquals("c40201ff", hex(new byte[] {1, (byte) 0xff}));
    assertTrue(hex(new byte[256]).startsWith("c50100"));
    assertTrue(hex(new java.util.ArrayList<>(java.util.Collections.nCopies(16, 0))).startsWith("dc0010"));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("b", 1);
    m.put("a", null);
    assertEquals("82a16201a161c0", hex(m));
  }

  @Test
  void givenUnpairedSurrogateOrForeignType_thenEncodingErrorWithPath() {
    EncodingException e = assertThrows(EncodingException.class, () -> codec.encode(Map.of("k", List.of("\uDC00"))));
    assertTrue(e.getMessage().contains("k[0]"), e.getMessage());
    assertThrows(EncodingException.class, () -> codec.encode(List.of(new float[0])));
    assertThrows(EncodingException.class, () -> codec.encode(Map.of(3, 4)));
  }

  @Test
  void givenValueModel_thenRoundTrip() throws Exception {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("s", "漢字😀");
    m.put("l", List.of(1L, 2.5, true, "x"));
    m.put("n", null);
    m.put("neg", Long.MIN_VALUE);
    Map<?, ?> back = (Map<?, ?>) codec.decode(codec.encode(m));
    assertEquals(m, back);
    byte[] bin = (byte[]) codec.decode(codec.encode(new byte[] {9, 8}));
    assertArrayEquals(new byte[] {9, 8}, bin);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "empty, ''",
    "never used byte, c1",
    "trailing byte, 01c0",
    "array of 3 with 2, 930102",
    "integer map key, 810102",
    "ext type, d40501",
    "timestamp ext, d6ff00000000",
    "uint64 beyond int64, cfffffffffffffffff",
    "invalid utf8 in str, a2c328",
    "bin32 claiming 4 GiB, c6ffffffff00",
    "array32 claiming 4 billion, ddfffffff0",
    "str32 claiming 2 GiB, db7fffffff41",
    "map32 claiming 2 billion, df7fffffff",
  })
  void givenInvalidMessagePack_thenCorruptedPayload(String what, String hex) {
    CorruptedPayloadException e = assertThrows(CorruptedPayloadException.class, () -> decodeHex(hex), what);
    assertTrue(e.getMessage().contains("first bytes"), e.getMessage());
  }

  @Test
  void givenDirectBuffer_thenDecodedWithoutDirectAccess() throws Exception {
    byte[] b = HexFormat.of().parseHex("82a16201a161c0");
    ByteBuffer direct = ByteBuffer.allocateDirect(b.length).put(b).flip();
    Map<String, Object> expected = new LinkedHashMap<>();
    expected.put("b", 1L);
    expected.put("a", null);
    assertEquals(expected, codec.decode(direct));
  }
}
