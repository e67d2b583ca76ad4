package org.dspex.beam.connector.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The manifest's value conventions ({@code testdata/frames/README.md}): tagged values for what JSON
 * cannot hold, and strict comparison (1 is not 1.0, NaN equals NaN, -0.0 is not 0.0, key order
 * counts).
 */
final class GoldenValues {
  private GoldenValues() {}

  /** A manifest value as a protocol value: {@code $float} and {@code $bytes} resolved. */
  static Object untag(Object v) {
    if (v instanceof Map) {
      Map<?, ?> m = (Map<?, ?>) v;
      if (m.size() == 1 && m.containsKey("$float")) {
        switch ((String) m.get("$float")) {
          case "nan":
            return Double.NaN;
          case "inf":
            return Double.POSITIVE_INFINITY;
          case "-inf":
            return Double.NEGATIVE_INFINITY;
          default:
            throw new IllegalArgumentException("bad $float " + m);
        }
      }
      if (m.size() == 1 && m.containsKey("$bytes")) {
        return Base64.getDecoder().decode((String) m.get("$bytes"));
      }
      Map<String, Object> out = new LinkedHashMap<>();
      m.forEach((k, val) -> out.put((String) k, untag(val)));
      return out;
    }
    if (v instanceof List) {
      List<Object> out = new ArrayList<>();
      for (Object o : (List<?>) v) {
        out.add(untag(o));
      }
      return out;
    }
    return v;
  }

  /** Strict equality of decoded values, with the path of the first difference. */
  static void assertSameValue(Object expected, Object actual, String path) {
    if (expected == null) {
      assertEquals(null, actual, path);
    } else if (expected instanceof Double) {
      assertInstanceOf(Double.class, actual, path + ": not a float: " + actual);
      double e = (Double) expected;
      double a = (Double) actual;
      if (Double.isNaN(e)) {
        assertTrue(Double.isNaN(a), path + ": " + a + " is not NaN");
      } else {
        assertEquals(Double.doubleToLongBits(e), Double.doubleToLongBits(a), path + ": " + a + " != " + e);
      }
    } else if (expected instanceof Long) {
      assertInstanceOf(Long.class, actual, path + ": not an integer: " + actual);
      assertEquals(expected, actual, path);
    } else if (expected instanceof Boolean || expected instanceof String) {
      assertEquals(expected, actual, path);
    } else if (expected instanceof byte[]) {
      assertInstanceOf(byte[].class, actual, path + ": not bytes: " + actual);
      assertArrayEquals((byte[]) expected, (byte[]) actual, path);
    } else if (expected instanceof Map) {
      assertInstanceOf(Map.class, actual, path + ": not a map: " + actual);
      Map<?, ?> e = (Map<?, ?>) expected;
      Map<?, ?> a = (Map<?, ?>) actual;
      assertEquals(new ArrayList<>(e.keySet()), new ArrayList<>(a.keySet()), path + ": keys");
      for (Object k : e.keySet()) {
        assertSameValue(e.get(k), a.get(k), path + "." + k);
      }
    } else if (expected instanceof List) {
      assertInstanceOf(List.class, actual, path + ": not a list: " + actual);
      List<?> e = (List<?>) expected;
      List<?> a = (List<?>) actual;
      assertEquals(e.size(), a.size(), path + ": length");
      for (int i = 0; i < e.size(); i++) {
        assertSameValue(e.get(i), a.get(i), path + "[" + i + "]");
      }
    } else {
      fail(path + ": unexpected manifest value " + expected);
    }
  }
}
