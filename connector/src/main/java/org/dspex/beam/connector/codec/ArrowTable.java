package org.dspex.beam.connector.codec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A decoded Arrow body: its schema and its rows as records (maps in column order, every column
 * present, {@code null} where the column is null), in the shared value model.
 *
 * <p>The schema keeps the types as they came (say {@code int32} or {@code large_utf8} from another
 * writer) while the values are already widened to the value model ({@code Long}, {@code Double},
 * {@code String}, ...).
 */
public final class ArrowTable {
  private final Schema schema;
  private final List<Map<String, Object>> records;

  /** A table over the given schema and records (the list is kept, not copied). */
  public ArrowTable(Schema schema, List<Map<String, Object>> records) {
    this.schema = Objects.requireNonNull(schema, "schema");
    this.records = Collections.unmodifiableList(Objects.requireNonNull(records, "records"));
  }

  /** The Arrow schema as written by the sender. */
  public Schema schema() {
    return schema;
  }

  /** The rows, in order. */
  public List<Map<String, Object>> records() {
    return records;
  }

  /** The number of rows. */
  public int rowCount() {
    return records.size();
  }

  /** The column names, in schema order. */
  public List<String> columnNames() {
    List<String> names = new ArrayList<>();
    for (Field f : schema.getFields()) {
      names.add(f.getName());
    }
    return names;
  }

  /** The column types by the names of {@link #typeName(Field)}, in schema order. */
  public List<String> columnTypes() {
    List<String> types = new ArrayList<>();
    for (Field f : schema.getFields()) {
      types.add(typeName(f));
    }
    return types;
  }

  /**
   * One column's values, in row order; for a table of one column, such as a list of strings sent as
   * Arrow, this is the list itself.
   *
   * @throws IllegalArgumentException when there is no such column
   */
  public List<Object> column(String name) {
    if (schema.getFields().stream().noneMatch(f -> f.getName().equals(name))) {
      throw new IllegalArgumentException("no column '" + name + "'; columns: " + columnNames());
    }
    List<Object> values = new ArrayList<>(records.size());
    for (Map<String, Object> r : records) {
      values.add(r.get(name));
    }
    return values;
  }

  /**
   * A field's type by the names of {@code testdata/frames/README.md}: {@code int64}, {@code
   * float64}, {@code utf8}, {@code bool}, {@code binary}, {@code null}, {@code list<T>}, and for the
   * variants readers accept {@code int8}..{@code int32}, {@code uint8}..{@code uint32}, {@code
   * float32}, {@code large_utf8}, {@code large_binary}, {@code large_list<T>}, {@code
   * fixed_size_list<T>[n]}.
   */
  public static String typeName(Field field) {
    ArrowType t = field.getType();
    switch (t.getTypeID()) {
      case Int:
        {
          ArrowType.Int i = (ArrowType.Int) t;
          return (i.getIsSigned() ? "int" : "uint") + i.getBitWidth();
        }
      case FloatingPoint:
        {
          FloatingPointPrecision p = ((ArrowType.FloatingPoint) t).getPrecision();
          return p == FloatingPointPrecision.DOUBLE ? "float64" : p == FloatingPointPrecision.SINGLE ? "float32" : "float16";
        }
      case Utf8:
        return "utf8";
      case LargeUtf8:
        return "large_utf8";
      case Bool:
        return "bool";
      case Binary:
        return "binary";
      case LargeBinary:
        return "large_binary";
      case Null:
        return "null";
      case List:
        return "list<" + typeName(field.getChildren().get(0)) + ">";
      case LargeList:
        return "large_list<" + typeName(field.getChildren().get(0)) + ">";
      case FixedSizeList:
        return "fixed_size_list<"
            + typeName(field.getChildren().get(0))
            + ">["
            + ((ArrowType.FixedSizeList) t).getListSize()
            + "]";
      default:
        return t.toString();
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ArrowTable
        && ((ArrowTable) o).schema.equals(schema)
        && ((ArrowTable) o).records.equals(records);
  }

  @Override
  public int hashCode() {
    return Objects.hash(schema, records);
  }

  @Override
  public String toString() {
    return "ArrowTable" + columnNames() + columnTypes() + "[" + records.size() + " rows]";
  }
}
