package org.dspex.beam.transforms.input;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.BigEndianIntegerCoder;
import org.apache.beam.sdk.coders.BigEndianLongCoder;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.transforms.Convert;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Brings every supported input to rows, so the rest of the transform has one shape to handle:
 *
 * <ul>
 *   <li>rows and schema'd POJOs: their own schema (POJOs through the schema registry);
 *   <li>{@code String}: one STRING field named {@code textField};
 *   <li>{@code KV<K, String>}: a {@code key} field of K's Beam type (String STRING, Long INT64,
 *       Integer INT32, Double DOUBLE, Boolean BOOLEAN, byte[] BYTES), then the text field. Other
 *       key types are refused at expand time: map the key to one of these first, or use rows.
 * </ul>
 */
public final class InputRows {
  /** The key field of rows made from {@code KV}s. */
  public static final String KEY_FIELD = "key";

  private InputRows() {}

  /** Whether the input is a {@code String} or {@code KV<K, String>} collection (one text per element). */
  public static boolean isText(PCollection<?> input) {
    if (input.hasSchema()) {
      return false;
    }
    Coder<?> c = input.getCoder();
    return c instanceof StringUtf8Coder
        || (c instanceof KvCoder && ((KvCoder<?, ?>) c).getValueCoder() instanceof StringUtf8Coder);
  }

  /**
   * The input as rows; texts in a field named {@code textField}.
   *
   * @throws IllegalArgumentException for an input type that is not supported, saying which are
   */
  @SuppressWarnings("unchecked")
  public static PCollection<Row> toRows(PCollection<?> input, String textField) {
    if (input.hasSchema()) {
      return ((PCollection<Object>) input).apply("ToRows", Convert.toRows());
    }
    Coder<?> c = input.getCoder();
    if (c instanceof StringUtf8Coder) {
      Schema s = Schema.builder().addStringField(textField).build();
      return ((PCollection<String>) input).apply("StringToRow", ParDo.of(new StringToRow(s))).setRowSchema(s);
    }
    if (c instanceof KvCoder && ((KvCoder<?, ?>) c).getValueCoder() instanceof StringUtf8Coder) {
      Coder<?> keyCoder = ((KvCoder<?, ?>) c).getKeyCoder();
      Schema.FieldType keyType = keyType(keyCoder);
      if (keyType == null) {
        throw new IllegalArgumentException(
            "input KV<K, String> has key coder " + keyCoder + "; supported keys: String, Long, Integer,"
                + " Double, Boolean, byte[]. Map the key to a String first, or give rows with a schema");
      }
      Schema s = Schema.builder().addField(KEY_FIELD, keyType).addStringField(textField).build();
      return ((PCollection<KV<Object, String>>) input).apply("KvToRow", ParDo.of(new KvToRow(s))).setRowSchema(s);
    }
    throw new IllegalArgumentException(
        "input of type " + input.getTypeDescriptor() + " (coder " + c + ") is not supported; give"
            + " PCollection<Row>, a PCollection of a type with a Beam schema, PCollection<String> or"
            + " PCollection<KV<K, String>>");
  }

  private static Schema.FieldType keyType(Coder<?> c) {
    Map<Class<?>, Schema.FieldType> known = Map.of(
        StringUtf8Coder.class, Schema.FieldType.STRING,
        VarLongCoder.class, Schema.FieldType.INT64,
        BigEndianLongCoder.class, Schema.FieldType.INT64,
        VarIntCoder.class, Schema.FieldType.INT32,
        BigEndianIntegerCoder.class, Schema.FieldType.INT32,
        DoubleCoder.class, Schema.FieldType.DOUBLE,
        BooleanCoder.class, Schema.FieldType.BOOLEAN,
        ByteArrayCoder.class, Schema.FieldType.BYTES);
    return known.get(c.getClass());
  }

  /** Checks that {@code schema} has every field of {@code names}. */
  public static void checkHasFields(Schema schema, List<String> names, String what) {
    List<String> have = new ArrayList<>(schema.getFieldNames());
    for (String n : names) {
      if (!schema.hasField(n)) {
        throw new IllegalArgumentException(
            what + " needs input field '" + n + "', but the input schema has only " + have);
      }
    }
  }

  /** {@code String} to a one-field row. */
  static final class StringToRow extends DoFn<String, Row> {
    private static final long serialVersionUID = 1L;
    private final Schema schema;

    StringToRow(Schema schema) {
      this.schema = schema;
    }

    @ProcessElement
    public void process(@Element String s, OutputReceiver<Row> out) {
      out.output(Row.withSchema(schema).addValue(s).build());
    }
  }

  /** {@code KV} to a key-and-text row. */
  static final class KvToRow extends DoFn<KV<Object, String>, Row> {
    private static final long serialVersionUID = 1L;
    private final Schema schema;

    KvToRow(Schema schema) {
      this.schema = schema;
    }

    @ProcessElement
    public void process(@Element KV<Object, String> kv, OutputReceiver<Row> out) {
      out.output(Row.withSchema(schema).addValues(kv.getKey(), kv.getValue()).build());
    }
  }
}
