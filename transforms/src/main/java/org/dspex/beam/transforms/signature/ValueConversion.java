package org.dspex.beam.transforms.signature;

import java.util.ArrayList;
import java.util.List;
import org.dspex.beam.transforms.failures.ElementJson;

/**
 * Turns a value a worker returned for an output field into the Java value its Beam type holds, so
 * that a typed output row never carries a value of the wrong type: a mismatch becomes that
 * element's failure, not a crash of the pipeline's coder later.
 */
public final class ValueConversion {
  private ValueConversion() {}

  /**
   * The Beam value of {@code value} for a field of {@code type} ({@code null} stays {@code null}).
   *
   * @throws IllegalArgumentException when the value cannot be of that type, naming both
   */
  public static Object toBeam(String field, FieldType type, Object value) {
    if (value == null) {
      return null;
    }
    switch (type.kind()) {
      case INT:
        if (value instanceof Number && isWhole((Number) value)) {
          return ((Number) value).longValue();
        }
        if (value instanceof String) {
          try {
            return Long.parseLong(((String) value).trim());
          } catch (NumberFormatException e) {
            // falls through to the error below
          }
        }
        break;
      case FLOAT:
        if (value instanceof Number) {
          return ((Number) value).doubleValue();
        }
        if (value instanceof String) {
          try {
            return Double.parseDouble(((String) value).trim());
          } catch (NumberFormatException e) {
            // falls through to the error below
          }
        }
        break;
      case BOOL:
        if (value instanceof Boolean) {
          return value;
        }
        break;
      case LIST_STR:
        if (value instanceof List) {
          List<String> out = new ArrayList<>();
          for (Object o : (List<?>) value) {
            out.add(o == null ? null : String.valueOf(o));
          }
          return out;
        }
        break;
      case LIST_INT:
      case LIST_FLOAT:
      case LIST_BOOL:
        if (value instanceof List) {
          FieldType element = FieldType.parse(type.kind() == FieldType.Kind.LIST_INT ? "int"
              : type.kind() == FieldType.Kind.LIST_FLOAT ? "float" : "bool");
          List<Object> out = new ArrayList<>();
          for (Object o : (List<?>) value) {
            out.add(toBeam(field, element, o));
          }
          return out;
        }
        break;
      case JSON:
        return value instanceof String ? value : ElementJson.json(ElementJson.plain(value));
      default:
        if (value instanceof String) {
          return value;
        }
        return value instanceof Number || value instanceof Boolean
            ? String.valueOf(value)
            : ElementJson.json(ElementJson.plain(value));
    }
    throw new IllegalArgumentException(
        "output field '" + field + "' is " + type + " but the worker returned "
            + value.getClass().getSimpleName() + " " + abbreviate(String.valueOf(value)));
  }

  private static boolean isWhole(Number n) {
    if (n instanceof Double || n instanceof Float) {
      double d = n.doubleValue();
      return d == Math.rint(d) && !Double.isInfinite(d);
    }
    return true;
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? "'" + s + "'" : "'" + s.substring(0, 77) + "...'";
  }
}
