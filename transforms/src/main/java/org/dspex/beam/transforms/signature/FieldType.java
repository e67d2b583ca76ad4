package org.dspex.beam.transforms.signature;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.schemas.Schema;

/**
 * A DSPy field type as a signature spells it, and the Beam type it becomes: {@code str} STRING,
 * {@code int} INT64, {@code float} DOUBLE, {@code bool} BOOLEAN, {@code list[str]} ARRAY&lt;STRING&gt;,
 * {@code list[int]} / {@code list[float]} / {@code list[bool]} arrays of INT64 / DOUBLE / BOOLEAN,
 * {@code Literal['a', 'b']} STRING (restricted to those values by DSPy, not by the schema), and,
 * for a program's fields of any other Python type ({@code json} from the worker), STRING holding
 * the value as JSON.
 */
public final class FieldType implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  /** The kinds of types a signature may use. */
  public enum Kind {
    STR,
    INT,
    FLOAT,
    BOOL,
    LIST_STR,
    LIST_INT,
    LIST_FLOAT,
    LIST_BOOL,
    LITERAL,
    /** Any other Python type a program reports ({@code json}): the value as JSON text. */
    JSON
  }

  private static final Pattern LITERAL = Pattern.compile("^Literal\\[(.*)\\]$", Pattern.DOTALL);
  private static final Pattern QUOTED = Pattern.compile("\\s*(?:'([^']*)'|\"([^\"]*)\")\\s*(,|$)");

  /** The type of a field written without one. */
  public static final FieldType STR = new FieldType(Kind.STR, List.of(), "str");

  private final Kind kind;
  private final List<String> literals;
  private final String spelling;

  private FieldType(Kind kind, List<String> literals, String spelling) {
    this.kind = kind;
    this.literals = literals;
    this.spelling = spelling;
  }

  /**
   * The type {@code text} names ({@code str}, {@code int}, {@code float}, {@code bool}, {@code
   * list[str]}, {@code Literal['x', 'y']}; {@code List[str]} is accepted too).
   *
   * @throws IllegalArgumentException for any other type, listing the supported ones
   */
  public static FieldType parse(String text) {
    String t = text.trim();
    switch (t.replace(" ", "")) {
      case "str":
        return STR;
      case "int":
        return new FieldType(Kind.INT, List.of(), "int");
      case "float":
        return new FieldType(Kind.FLOAT, List.of(), "float");
      case "bool":
        return new FieldType(Kind.BOOL, List.of(), "bool");
      case "list[str]":
      case "List[str]":
        return new FieldType(Kind.LIST_STR, List.of(), "list[str]");
      case "list[int]":
      case "List[int]":
        return new FieldType(Kind.LIST_INT, List.of(), "list[int]");
      case "list[float]":
      case "List[float]":
        return new FieldType(Kind.LIST_FLOAT, List.of(), "list[float]");
      case "list[bool]":
      case "List[bool]":
        return new FieldType(Kind.LIST_BOOL, List.of(), "list[bool]");
      default:
        break;
    }
    Matcher m = LITERAL.matcher(t);
    if (m.matches()) {
      List<String> values = new ArrayList<>();
      String inner = m.group(1);
      Matcher q = QUOTED.matcher(inner);
      int pos = 0;
      while (pos < inner.length() && q.find(pos) && q.start() == pos) {
        values.add(q.group(1) != null ? q.group(1) : q.group(2));
        pos = q.end();
      }
      if (pos == inner.length() && !values.isEmpty()) {
        return new FieldType(Kind.LITERAL, Collections.unmodifiableList(values), t);
      }
      throw new IllegalArgumentException(
          "type '" + t + "': a Literal takes one or more quoted strings, e.g. Literal['yes', 'no']");
    }
    throw new IllegalArgumentException(
        "unsupported type '" + t + "'; supported: str, int, float, bool, list[str], list[int],"
            + " list[float], list[bool], Literal['a', 'b']");
  }

  /**
   * The type a worker reports for a program's field ({@code setup} result {@code outputs[].type}):
   * like {@link #parse}, but a type Java does not model becomes STRING (the value's text) rather
   * than an error, since a program may use any Python type.
   */
  public static FieldType fromWorker(String text) {
    try {
      return parse(text == null ? "str" : text);
    } catch (IllegalArgumentException e) {
      return new FieldType(Kind.JSON, List.of(), text);
    }
  }

  /**
   * The type whose {@link #beamType()} a user-given Beam field type stands for: INT16/INT32/INT64
   * {@code int}, FLOAT/DOUBLE {@code float}, BOOLEAN {@code bool}, STRING {@code str}, and arrays
   * (or iterables) of those the matching {@code list[...]}.
   *
   * @throws IllegalArgumentException for any other Beam type, naming {@code field} and the supported
   *     types
   */
  public static FieldType ofBeamType(String field, Schema.FieldType type) {
    Schema.TypeName name = type.getTypeName();
    if (name == Schema.TypeName.ARRAY || name == Schema.TypeName.ITERABLE) {
      String element = scalarSpelling(type.getCollectionElementType().getTypeName());
      if (element != null) {
        return parse("list[" + element + "]");
      }
    } else {
      String scalar = scalarSpelling(name);
      if (scalar != null) {
        return parse(scalar);
      }
    }
    throw new IllegalArgumentException("field '" + field + "' has type " + type + "; supported: STRING,"
        + " INT64, DOUBLE, BOOLEAN and ARRAY of one of them (INT16, INT32 and FLOAT are read as INT64 and"
        + " DOUBLE)");
  }

  private static String scalarSpelling(Schema.TypeName name) {
    switch (name) {
      case INT16:
      case INT32:
      case INT64:
        return "int";
      case FLOAT:
      case DOUBLE:
        return "float";
      case BOOLEAN:
        return "bool";
      case STRING:
        return "str";
      default:
        return null;
    }
  }

  /** The kind. */
  public Kind kind() {
    return kind;
  }

  /** The allowed values of a {@code Literal}, else empty. */
  public List<String> literals() {
    return literals;
  }

  /** The Beam type of values of this type (nullable: an LM may leave a field out). */
  public Schema.FieldType beamType() {
    switch (kind) {
      case INT:
        return Schema.FieldType.INT64.withNullable(true);
      case FLOAT:
        return Schema.FieldType.DOUBLE.withNullable(true);
      case BOOL:
        return Schema.FieldType.BOOLEAN.withNullable(true);
      case LIST_STR:
        return Schema.FieldType.array(Schema.FieldType.STRING).withNullable(true);
      case LIST_INT:
        return Schema.FieldType.array(Schema.FieldType.INT64.withNullable(true)).withNullable(true);
      case LIST_FLOAT:
        return Schema.FieldType.array(Schema.FieldType.DOUBLE.withNullable(true)).withNullable(true);
      case LIST_BOOL:
        return Schema.FieldType.array(Schema.FieldType.BOOLEAN.withNullable(true)).withNullable(true);
      default:
        return Schema.FieldType.STRING.withNullable(true);
    }
  }

  /** The type as written, e.g. {@code list[str]}. */
  @Override
  public String toString() {
    return spelling;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FieldType
        && ((FieldType) o).kind == kind
        && ((FieldType) o).literals.equals(literals);
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + literals.hashCode();
  }
}
