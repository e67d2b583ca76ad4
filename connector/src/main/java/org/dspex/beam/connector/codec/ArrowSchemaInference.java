package org.dspex.beam.connector.codec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Infers the Arrow schema of a list of records by the rules of {@code docs/protocol.md} section
 * 3.3: one column per key in the order keys are first seen; integers {@code int64}; floats (or
 * floats mixed with integers) {@code float64}; strings {@code utf8}; booleans {@code bool}; bytes
 * {@code binary}; lists of one of those {@code list<...>}; only nulls {@code null}. Any other mix
 * fails, naming the column, which is how {@code AUTO} knows to fall back to MessagePack.
 */
final class ArrowSchemaInference {
  /** Kinds of value a column (or a list column's elements) may hold. */
  enum Kind {
    NULL,
    INT,
    FLOAT,
    UTF8,
    BOOL,
    BINARY,
    LIST
  }

  /** A column's inferred type: a kind, and for lists the element kind. */
  static final class ColumnType {
    final Kind kind;
    final Kind element;

    ColumnType(Kind kind, Kind element) {
      this.kind = kind;
      this.element = element;
    }
  }

  private ArrowSchemaInference() {}

  /** Accumulates the kinds seen in one column. */
  private static final class Accumulator {
    private final String column;
    private Kind kind = Kind.NULL;
    private Kind element = Kind.NULL;

    Accumulator(String column) {
      this.column = column;
    }

    void add(Object value) {
      Kind k = kindOf(value, column);
      kind = merge(kind, k, column);
      if (k == Kind.LIST) {
        for (Object item : (List<?>) value) {
          Kind ik = kindOf(item, column);
          if (ik == Kind.LIST) {
            throw new EncodingFailure(
                "column '" + column + "' holds nested lists, which cannot go as Arrow");
          }
          element = merge(element, ik, column);
        }
      }
    }

    ColumnType type() {
      return new ColumnType(kind, kind == Kind.LIST ? element : null);
    }
  }

  /** The column names in first-seen order with their types; throws {@link EncodingFailure}. */
  static LinkedHashMap<String, ColumnType> infer(List<?> records) {
    LinkedHashMap<String, Accumulator> columns = new LinkedHashMap<>();
    int row = 0;
    for (Object r : records) {
      if (!(r instanceof Map)) {
        throw new EncodingFailure(CodecErrors.kind(r) + " where a record (a map) was expected")
            .atIndex(row);
      }
      for (Map.Entry<?, ?> e : ((Map<?, ?>) r).entrySet()) {
        if (!(e.getKey() instanceof String)) {
          throw new EncodingFailure("a record key of type " + JsonCodec.typeName(e.getKey()))
              .atIndex(row);
        }
        String column = (String) e.getKey();
        columns.computeIfAbsent(column, Accumulator::new).add(e.getValue());
      }
      row++;
    }
    LinkedHashMap<String, ColumnType> out = new LinkedHashMap<>();
    columns.forEach((name, acc) -> out.put(name, acc.type()));
    return out;
  }

  /** The type of one column holding {@code values}; throws {@link EncodingFailure}. */
  static ColumnType inferColumn(String column, List<?> values) {
    Accumulator acc = new Accumulator(column);
    for (Object v : values) {
      acc.add(v);
    }
    return acc.type();
  }

  /** The schema for inferred column types. */
  static Schema schema(LinkedHashMap<String, ColumnType> columns) {
    List<Field> fields = new ArrayList<>();
    columns.forEach((name, type) -> fields.add(field(name, type)));
    return new Schema(fields);
  }

  /** The schema of one column named {@code name} holding values of the given kinds. */
  static Field field(String name, ColumnType type) {
    if (type.kind == Kind.LIST) {
      // "item" is the child name pyarrow uses; Java's default would be "$data$".
      Field child = new Field("item", FieldType.nullable(arrowType(type.element)), null);
      return new Field(name, FieldType.nullable(ArrowType.List.INSTANCE), List.of(child));
    }
    return new Field(name, FieldType.nullable(arrowType(type.kind)), null);
  }

  private static ArrowType arrowType(Kind k) {
    switch (k) {
      case INT:
        return new ArrowType.Int(64, true);
      case FLOAT:
        return new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
      case UTF8:
        return ArrowType.Utf8.INSTANCE;
      case BOOL:
        return ArrowType.Bool.INSTANCE;
      case BINARY:
        return ArrowType.Binary.INSTANCE;
      case NULL:
        return ArrowType.Null.INSTANCE;
      default:
        throw new IllegalArgumentException(k.toString());
    }
  }

  static Kind kindOf(Object v, String column) {
    if (v == null) {
      return Kind.NULL;
    }
    if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return Kind.INT;
    }
    if (v instanceof Double || v instanceof Float) {
      return Kind.FLOAT;
    }
    if (v instanceof String) {
      return Kind.UTF8;
    }
    if (v instanceof Boolean) {
      return Kind.BOOL;
    }
    if (v instanceof byte[]) {
      return Kind.BINARY;
    }
    if (v instanceof List) {
      return Kind.LIST;
    }
    throw new EncodingFailure(
        "column '" + column + "' holds " + CodecErrors.kind(v) + ", which has no Arrow column type");
  }

  private static Kind merge(Kind a, Kind b, String column) {
    if (a == b || b == Kind.NULL) {
      return a;
    }
    if (a == Kind.NULL) {
      return b;
    }
    if ((a == Kind.INT && b == Kind.FLOAT) || (a == Kind.FLOAT && b == Kind.INT)) {
      return Kind.FLOAT;
    }
    throw new EncodingFailure(
        "column '" + column + "' mixes " + name(a) + " and " + name(b) + " values, which one Arrow column cannot hold");
  }

  private static String name(Kind k) {
    switch (k) {
      case INT:
        return "int";
      case FLOAT:
        return "float";
      case UTF8:
        return "str";
      case BOOL:
        return "bool";
      case BINARY:
        return "bytes";
      case LIST:
        return "list";
      default:
        return "null";
    }
  }
}
