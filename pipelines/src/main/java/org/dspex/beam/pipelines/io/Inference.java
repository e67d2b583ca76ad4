package org.dspex.beam.pipelines.io;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.dspex.beam.transforms.signature.FieldType;

/**
 * The type of a field from sample values (the first records of the input): the first non-null
 * value decides, an integer field that also holds decimals is a float, anything else (objects,
 * mixed lists) is JSON text.
 */
public final class Inference {
  private static final FieldType JSON = FieldType.fromWorker("json");

  private Inference() {}

  /** The type for {@code samples} (nulls ignored; all null: str). */
  public static FieldType infer(List<Object> samples) {
    FieldType t = null;
    for (Object v : samples) {
      if (v == null) {
        continue;
      }
      FieldType u = of(v);
      if (t == null) {
        t = u;
      } else if (!t.equals(u)) {
        boolean numbers = isNumber(t) && isNumber(u);
        return numbers ? FieldType.parse("float") : t;
      }
    }
    return t == null ? FieldType.STR : t;
  }

  private static boolean isNumber(FieldType t) {
    return t.kind() == FieldType.Kind.INT || t.kind() == FieldType.Kind.FLOAT;
  }

  private static FieldType of(Object v) {
    if (v instanceof String) {
      return FieldType.STR;
    }
    if (v instanceof Boolean) {
      return FieldType.parse("bool");
    }
    if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
      return FieldType.parse("float");
    }
    if (v instanceof Number) {
      return FieldType.parse("int");
    }
    if (v instanceof List && !((List<?>) v).isEmpty()) {
      List<?> l = (List<?>) v;
      String element = null;
      for (Object o : l) {
        String e = o instanceof String ? "str" : o instanceof Boolean ? "bool"
            : o instanceof Double || o instanceof Float ? "float" : o instanceof Number ? "int" : "other";
        if (element != null && !element.equals(e)) {
          element = ("int".equals(element) || "float".equals(element)) && ("int".equals(e) || "float".equals(e))
              ? "float" : "other";
        } else if (element == null) {
          element = e;
        }
      }
      return "other".equals(element) ? JSON : FieldType.parse("list[" + element + "]");
    }
    return JSON;
  }

  /** A value's JSON kind, for messages: a string, a number, a boolean, an array, an object. */
  public static String describeValue(Object v) {
    return v instanceof String ? "a string" : v instanceof Boolean ? "a boolean" : v instanceof Number ? "a number"
        : v instanceof List ? "an array" : v instanceof Map ? "an object" : "a " + v.getClass().getSimpleName();
  }
}
