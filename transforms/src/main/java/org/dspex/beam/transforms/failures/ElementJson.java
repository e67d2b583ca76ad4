package org.dspex.beam.transforms.failures;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * Rows as plain Java values (maps, lists, strings, numbers) and as JSON: the former is what a
 * request record carries, the latter what a failure row keeps for replay and what {@code
 * withMaxElementBytes} measures.
 */
public final class ElementJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ElementJson() {}

  /** The row's fields by name, values converted by {@link #plain}. */
  public static Map<String, Object> toMap(Row row) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Schema.Field f : row.getSchema().getFields()) {
      m.put(f.getName(), plain(row.getValue(f.getName())));
    }
    return m;
  }

  /** A Beam value as a plain value: rows as maps, iterables as lists, other non-JSON types as text. */
  public static Object plain(Object v) {
    if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) {
      return v;
    }
    if (v instanceof Row) {
      return toMap((Row) v);
    }
    if (v instanceof Iterable) {
      List<Object> l = new ArrayList<>(v instanceof Collection ? ((Collection<?>) v).size() : 16);
      for (Object o : (Iterable<?>) v) {
        l.add(plain(o));
      }
      return l;
    }
    if (v instanceof Map) {
      Map<String, Object> m = new LinkedHashMap<>();
      ((Map<?, ?>) v).forEach((k, x) -> m.put(String.valueOf(k), plain(x)));
      return m;
    }
    if (v instanceof byte[]) {
      return java.util.Base64.getEncoder().encodeToString((byte[]) v);
    }
    return String.valueOf(v);
  }

  /** {@code value} as JSON text. */
  public static String json(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      // Only plain values reach here, so this is a bug rather than bad input.
      throw new IllegalStateException("cannot write as JSON: " + e.getMessage(), e);
    }
  }
}
