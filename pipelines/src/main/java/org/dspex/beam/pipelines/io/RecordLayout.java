package org.dspex.beam.pipelines.io;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.transforms.signature.FieldType;
import org.dspex.beam.transforms.signature.ValueConversion;

/**
 * The typed fields a job takes from each input record, and the bookkeeping fields every row carries
 * through the transforms (which keep their input's fields) so that outputs and failures map back to
 * the input: {@value #LINE}, {@value #FILE} and {@value #INPUT} (the original record as JSON). The
 * bookkeeping fields are dropped before the output is written. Immutable.
 */
public final class RecordLayout implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The row's input line (INT64). */
  public static final String LINE = "dspex_line";
  /** The row's input file (STRING). */
  public static final String FILE = "dspex_file";
  /** The original record as JSON (STRING). */
  public static final String INPUT = "dspex_input";
  /** Error type of a record that lacks a required field, or has it null. */
  public static final String MISSING_FIELD = "MissingField";
  /** Error type of a record whose field has a value of another type than the job takes. */
  public static final String FIELD_TYPE = "FieldTypeError";

  /**
   * One field taken from the records.
   *
   * @param name the row's field name
   * @param source the record's field it is read from (usually {@code name})
   * @param required whether a record without it (or with null) fails at once as {@value
   *     #MISSING_FIELD} rather than reaching the model
   */
  public record Column(String name, String source, FieldType type, boolean required) implements Serializable {
    /** A column read from the record field of the same name. */
    public Column(String name, FieldType type, boolean required) {
      this(name, name, type, required);
    }
  }

  /** Why a record cannot become a row: its error type and message. */
  public static final class FieldException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String type;

    FieldException(String type, String message) {
      super(message, null, false, false);
      this.type = type;
    }

    /** The failure's error type. */
    public String type() {
      return type;
    }
  }

  private final List<Column> columns;
  private final Schema schema;

  private RecordLayout(List<Column> columns) {
    this.columns = List.copyOf(columns);
    Schema.Builder b = Schema.builder();
    for (Column c : this.columns) {
      b.addField(c.name(), c.type().beamType());
    }
    b.addInt64Field(LINE).addStringField(FILE).addStringField(INPUT);
    this.schema = b.build();
  }

  /** A layout of these columns (names must be distinct and not a bookkeeping name). */
  public static RecordLayout of(Collection<Column> columns) {
    List<String> seen = new ArrayList<>();
    for (Column c : columns) {
      if (seen.contains(c.name()) || List.of(LINE, FILE, INPUT).contains(c.name())) {
        throw new IllegalArgumentException("field '" + c.name() + "' given twice or reserved");
      }
      seen.add(c.name());
    }
    return new RecordLayout(new ArrayList<>(columns));
  }

  /** The columns, in order. */
  public List<Column> columns() {
    return columns;
  }

  /** The rows' schema: the columns, then the bookkeeping fields. */
  public Schema schema() {
    return schema;
  }

  /**
   * The row of a parsed record.
   *
   * @throws FieldException for a missing required field or a value of the wrong type
   */
  public Row toRow(SourceRecord record, String file) throws FieldException {
    Map<String, Object> fields = record.fields();
    Row.Builder b = Row.withSchema(schema);
    for (Column c : columns) {
      Object v = fields.get(c.source());
      if (v == null) {
        if (c.required()) {
          throw new FieldException(MISSING_FIELD, "field '" + c.source() + "' is "
              + (fields.containsKey(c.source()) ? "null" : "missing"));
        }
        b.addValue(null);
      } else {
        b.addValue(convert(c, v));
      }
    }
    return b.addValues(record.line(), file, record.inputJson()).build();
  }

  private static Object convert(Column c, Object v) throws FieldException {
    FieldType.Kind k = c.type().kind();
    boolean text = k == FieldType.Kind.STR || k == FieldType.Kind.LITERAL;
    if (text && !(v instanceof String)) {
      throw wrongType(c, v);
    }
    try {
      return ValueConversion.toBeam(c.source(), c.type(), v);
    } catch (IllegalArgumentException e) {
      throw wrongType(c, v);
    }
  }

  private static FieldException wrongType(Column c, Object v) {
    String shown = Json.write(v);
    if (shown.length() > 60) {
      shown = shown.substring(0, 57) + "...";
    }
    return new FieldException(FIELD_TYPE, "field '" + c.source() + "' must be " + describe(c.type())
        + ", was " + Inference.describeValue(v) + " " + shown);
  }

  private static String describe(FieldType t) {
    switch (t.kind()) {
      case STR:
      case LITERAL:
        return "a string";
      case INT:
        return "an integer";
      case FLOAT:
        return "a number";
      case BOOL:
        return "true or false";
      default:
        return "of type " + t;
    }
  }
}
