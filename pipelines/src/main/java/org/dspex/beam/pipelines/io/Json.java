package org.dspex.beam.pipelines.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;

/** The command's one JSON mapper: objects as ordered maps, no float rounding of integers. */
public final class Json {
  /** Shared, thread-safe once configured. */
  public static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

  private Json() {}

  /** {@code text} as a JSON value (maps, lists, strings, numbers, booleans, null). */
  public static Object parse(String text) throws JsonProcessingException {
    return MAPPER.readValue(text, Object.class);
  }

  /** {@code text} as a JSON object. */
  public static LinkedHashMap<String, Object> parseObject(String text) throws JsonProcessingException {
    return MAPPER.readValue(text, MAP);
  }

  /** {@code value} as JSON text. */
  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write as JSON: " + e.getMessage(), e);
    }
  }

  /** The first line of a Jackson message, without its source excerpt. */
  public static String shortMessage(JsonProcessingException e) {
    String m = e.getOriginalMessage();
    int nl = m == null ? -1 : m.indexOf('\n');
    return m == null ? e.getClass().getSimpleName() : nl < 0 ? m : m.substring(0, nl);
  }
}
