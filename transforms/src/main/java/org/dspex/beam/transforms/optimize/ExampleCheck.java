package org.dspex.beam.transforms.optimize;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.transforms.failures.ElementJson;
import org.dspex.beam.transforms.failures.Failures;
import org.dspex.beam.transforms.metrics.DSPexMetrics;
import org.dspex.beam.transforms.signature.FieldType;
import org.dspex.beam.transforms.signature.SignatureField;
import org.dspex.beam.transforms.signature.ValueConversion;

/**
 * Turns each input row into an example of the program's input and label fields, or a failure:
 * {@value Failures#MISSING_FIELD} for a field that is null, {@value Failures#FIELD_TYPE} for a value
 * of another type than the field's (a string for an {@code int}, a number for a {@code str}; no
 * conversion). Examples go out keyed by one key, so that one worker gets them all, and tagged as
 * training or dev examples.
 */
public final class ExampleCheck extends DoFn<Row, KV<Integer, KV<Boolean, Row>>> {
  private static final long serialVersionUID = 1L;

  /** The key every example is gathered under. */
  public static final int KEY = 0;
  /** The failures of the check. */
  public static final TupleTag<Row> FAILURES = new TupleTag<>("example-failures") {};
  /** The examples. */
  public static final TupleTag<KV<Integer, KV<Boolean, Row>>> EXAMPLES = new TupleTag<>("examples") {};

  private final List<SignatureField> fields;
  private final Schema schema;
  private final boolean dev;
  private transient DSPexMetrics metrics;

  /**
   * Applies the check to {@code rows} as step {@code name}: {@link #EXAMPLES} (coded by key, dev
   * flag and a row of {@code fields}) and {@link #FAILURES} ({@link Failures#SCHEMA}).
   */
  public static PCollectionTuple apply(PCollection<Row> rows, List<SignatureField> fields, boolean dev, String name) {
    PCollectionTuple t = rows.apply(name, ParDo.of(new ExampleCheck(fields, dev))
        .withOutputTags(EXAMPLES, TupleTagList.of(FAILURES)));
    t.get(FAILURES).setRowSchema(Failures.SCHEMA);
    t.get(EXAMPLES).setCoder(KvCoder.of(VarIntCoder.of(), KvCoder.of(BooleanCoder.of(), RowCoder.of(schema(fields)))));
    return t;
  }

  /** Checks rows for {@code fields} (inputs, then labels); {@code dev}: they are dev examples. */
  public ExampleCheck(List<SignatureField> fields, boolean dev) {
    this.fields = new ArrayList<>(fields);
    this.schema = schema(fields);
    this.dev = dev;
  }

  /** The schema of example rows: one nullable field per input and label field, of its type. */
  public static Schema schema(List<SignatureField> fields) {
    Schema.Builder b = Schema.builder();
    for (SignatureField f : fields) {
      b.addNullableField(f.name(), f.type().beamType());
    }
    return b.build();
  }

  @Setup
  public void setup() {
    metrics = new DSPexMetrics();
  }

  @ProcessElement
  public void process(@Element Row input, MultiOutputReceiver out) {
    metrics.elements.inc();
    List<Object> values = new ArrayList<>(fields.size());
    List<String> missing = new ArrayList<>();
    for (SignatureField f : fields) {
      Object plain = ElementJson.plain(input.getValue(f.name()));
      if (plain == null) {
        missing.add(f.name());
        continue;
      }
      String problem = problem(f.type(), plain);
      if (problem != null) {
        fail(out, input, Failures.FIELD_TYPE, "field '" + f.name() + "' is " + f.type() + " but the example holds "
            + problem + "; the example was not used");
        return;
      }
      values.add(ValueConversion.toBeam(f.name(), f.type(), plain));
    }
    if (!missing.isEmpty()) {
      fail(out, input, Failures.MISSING_FIELD, "field(s) " + String.join(", ", missing)
          + " missing or null; an example holds " + names() + "; it was not used");
      return;
    }
    out.get(EXAMPLES).output(KV.of(KEY, KV.of(dev, Row.withSchema(schema).addValues(values).build())));
  }

  private List<String> names() {
    List<String> n = new ArrayList<>();
    fields.forEach(f -> n.add(f.name()));
    return n;
  }

  private void fail(MultiOutputReceiver out, Row input, String type, String message) {
    metrics.failedElements.inc();
    out.get(FAILURES).output(Failures.row(ElementJson.json(ElementJson.toMap(input)), type, message, 0, null));
  }

  /** What is wrong with a plain value for {@code type} ({@code "a string 'x'"}), or null. */
  static @Nullable String problem(FieldType type, Object v) {
    switch (type.kind()) {
      case INT:
        return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte ? null : what(v);
      case FLOAT:
        return v instanceof Number ? null : what(v);
      case BOOL:
        return v instanceof Boolean ? null : what(v);
      case LIST_STR:
      case LIST_INT:
      case LIST_FLOAT:
      case LIST_BOOL:
        if (!(v instanceof List)) {
          return what(v);
        }
        FieldType element = FieldType.parse(type.toString().substring(5, type.toString().length() - 1));
        for (Object o : (List<?>) v) {
          String p = o == null ? null : problem(element, o);
          if (p != null) {
            return "a list holding " + p;
          }
        }
        return null;
      case JSON:
        return null;
      default:
        if (!(v instanceof String)) {
          return what(v);
        }
        return type.literals().isEmpty() || type.literals().contains(v) ? null
            : what(v) + ", not one of " + type.literals();
    }
  }

  private static String what(Object v) {
    String s = String.valueOf(v);
    String kind = v instanceof String ? "a string" : v instanceof Number ? "a number" : v instanceof Boolean
        ? "a boolean" : v instanceof List ? "a list" : v instanceof java.util.Map ? "a record" : "a value";
    return kind + " " + (s.length() > 60 ? "'" + s.substring(0, 57) + "...'" : "'" + s + "'");
  }
}
