package org.dspex.beam.connector.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonCodecTest {
  private final JsonCodec codec = new JsonCodec();

  private String encode(Object v) throws EncodingException {
    ByteBuffer b = codec.encode(v);
    return StandardCharsets.UTF_8.decode(b).toString();
  }

  private Object decode(String s) throws CorruptedPayloadException {
    return codec.decode(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void givenMap_thenNoWhitespaceAndKeysInMapOrder() throws Exception {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("b", List.of(1, 2));
    m.put("a", Map.of());
    m.put("c", null);
    m.put("d", true);
    assertEquals("{\"b\":[1,2],\"a\":{},\"c\":null,\"d\":true}", encode(m));
  }

  @Test
  void givenSpecialCharacters_thenShortEscapesLowercaseHexAndRawUtf8() throws Exception {
    String s = "\"\\\b\t\n\f\r\u0000\u001f\u000b/\u007f\u2028é漢😀";
    assertEquals(
        "\"\\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u001f\\u000b/\u007f\u2028é漢😀\"", encode(s));
  }

  @Test
  void givenFloatsAndIntegers_thenPythonLayout() throws Exception {
    List<Object> values = List.of(1.0, 0.1, 1e-5, 1e16, -0.0, 5e-324, 1.5f, 12, -12L, (short) 3, (byte) -4);
    assertEquals("[1.0,0.1,1e-05,1e+16,-0.0,5e-324,1.5,12,-12,3,-4]", encode(values));
  }

  @Test
  void givenNanDeepInside_thenEncodingErrorNamesFieldPath() {
    List<Object> inputs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      inputs.add(Map.of("score", 0.5));
    }
    inputs.add(Map.of("score", Double.NaN));
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("id", 1);
    header.put("args", Map.of("inputs", inputs));
    EncodingException e = assertThrows(EncodingException.class, () -> codec.encode(header));
    assertTrue(e.getMessage().contains("args.inputs[3].score"), e.getMessage());
    assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    assertEquals("EncodingError", e.errorName());
  }

  @Test
  void givenInfinityWithRootPath_thenPathStartsAtRoot() {
    EncodingException e =
        assertThrows(EncodingException.class, () -> codec.encode(List.of(1.0, Double.NEGATIVE_INFINITY), "args.scores"));
    assertTrue(e.getMessage().contains("args.scores[1]") && e.getMessage().contains("-Infinity"), e.getMessage());
  }

  @Test
  void givenBytesOrUnpairedSurrogateOrForeignType_thenEncodingError() {
    assertThrows(EncodingException.class, () -> codec.encode(Map.of("b", new byte[] {1})));
    EncodingException s = assertThrows(EncodingException.class, () -> codec.encode(List.of("ok", "bad\uD800")));
    assertTrue(s.getMessage().contains("surrogate") && s.getMessage().contains("[1]"), s.getMessage());
    assertThrows(EncodingException.class, () -> codec.encode(List.of(new Object())));
    assertThrows(EncodingException.class, () -> codec.encode(Map.of(1, "non-string key")));
  }

  @Test
  void givenNumbers_thenDotOrExponentIsDoubleElseLong() throws Exception {
    List<?> v = (List<?>) decode("[1, 1.0, 1e2, 1E2, -0, -0.0, 9223372036854775807]");
    assertEquals(List.of(1L, 1.0, 100.0, 100.0, 0L, -0.0, Long.MAX_VALUE), v);
    assertInstanceOf(Long.class, v.get(0));
    assertInstanceOf(Double.class, v.get(2));
  }

  @Test
  void givenObject_thenInsertionOrderedMap() throws Exception {
    Map<?, ?> m = (Map<?, ?>) decode("{\"z\":1,\"a\":{\"y\":[true,null,\"s\"]}}");
    assertEquals(List.of("z", "a"), new ArrayList<>(m.keySet()));
  }

  @Test
  void givenLargeString_thenDecodedBeyondJacksonDefaultLimit() throws Exception {
    String big = "x".repeat(21_000_000);
    assertEquals(big, decode("\"" + big + "\""));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "{", "[1] 2", "NaN", "{'a':1}", "01", "[1,]", "99999999999999999999"})
  void givenInvalidJson_thenCorruptedPayloadWithFirstBytes(String text) {
    CorruptedPayloadException e = assertThrows(CorruptedPayloadException.class, () -> decode(text));
    assertEquals("CorruptedPayload", e.errorName());
    assertTrue(e.getMessage().contains("first bytes: "), e.getMessage());
  }

  @Test
  void givenInvalidUtf8OrBomOrUtf16_thenCorruptedPayload() {
    byte[][] bad = {
      {'"', (byte) 0xc3, '"'},
      {'"', (byte) 0xc0, (byte) 0xaf, '"'},
      {'"', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '"'},
      {(byte) 0xef, (byte) 0xbb, (byte) 0xbf, '{', '}'},
      {0, '{', 0, '}'},
    };
    for (byte[] b : bad) {
      assertThrows(CorruptedPayloadException.class, () -> codec.decode(ByteBuffer.wrap(b)));
    }
  }

  @Test
  void givenHeaderThatIsNotAMap_thenCorruptedPayload() {
    CorruptedPayloadException e =
        assertThrows(CorruptedPayloadException.class, () -> codec.decodeMap(ByteBuffer.wrap("[1]".getBytes(StandardCharsets.UTF_8))));
    assertTrue(e.getMessage().contains("a list"), e.getMessage());
  }

  @Test
  void givenDirectBuffer_thenDecodedAndLeftUntouched() throws Exception {
    byte[] text = "{\"a\":[1,2.5]}".getBytes(StandardCharsets.UTF_8);
    ByteBuffer direct = ByteBuffer.allocateDirect(text.length).put(text).flip();
    assertEquals(Map.of("a", List.of(1L, 2.5)), codec.decode(direct));
    assertEquals(0, direct.position());
  }

  @Test
  void givenValues_thenCanEncodeTellsJsonSafety() {
    assertTrue(JsonCodec.canEncode(Map.of("a", List.of(1, 2.5, "x"))));
    assertFalse(JsonCodec.canEncode(List.of(Double.NaN)));
    assertFalse(JsonCodec.canEncode(Map.of("b", new byte[0])));
    assertFalse(JsonCodec.canEncode(new float[] {1f}));
  }
}
