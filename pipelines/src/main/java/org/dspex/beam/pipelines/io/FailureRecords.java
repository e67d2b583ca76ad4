package org.dspex.beam.pipelines.io;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * The failures file, {@code <output>.failures.jsonl}: one JSON object a line, {@code {"line": n,
 * "input": <the original record, or the raw line as a string when it did not parse>, "error_type":
 * "...", "message": "...", "attempts": k, "file": "<input file>"}}. {@code attempts} is how often
 * the record was sent to a worker (0: it never was, e.g. it did not parse). Read back as {@code
 * --input}, such a file re-runs its {@code input} values ({@link ReplayReader}).
 */
public final class FailureRecords {
  /** Key of the input line. */
  public static final String LINE = "line";
  /** Key of the original record. */
  public static final String INPUT = "input";
  /** Key of the error type. */
  public static final String ERROR_TYPE = "error_type";
  /** Key of the message. */
  public static final String MESSAGE = "message";
  /** Key of the attempts. */
  public static final String ATTEMPTS = "attempts";
  /** Key of the input file. */
  public static final String FILE = "file";

  /** The schema of failure rows inside the pipeline ({@code input} as JSON text). */
  public static final Schema SCHEMA = Schema.builder()
      .addInt64Field(LINE)
      .addStringField(INPUT)
      .addStringField(ERROR_TYPE)
      .addStringField(MESSAGE)
      .addInt32Field(ATTEMPTS)
      .addStringField(FILE)
      .build();

  private FailureRecords() {}

  /** A failure row. */
  public static Row row(long line, String inputJson, String type, String message, int attempts, String file) {
    return Row.withSchema(SCHEMA).addValues(line, inputJson, type, message, attempts, file).build();
  }

  /**
   * The failure row of a transform's failure ({@link org.dspex.beam.transforms.failures.Failures}):
   * its {@code element} JSON carries the bookkeeping fields of {@link RecordLayout}.
   */
  public static Row fromTransform(Row failure) {
    String element = failure.getString("element");
    Map<String, Object> e;
    try {
      e = Json.parseObject(element);
    } catch (JsonProcessingException x) {
      throw new IllegalStateException("a failure row's element is not a JSON object: " + x.getMessage(), x);
    }
    Object line = e.get(RecordLayout.LINE);
    Object input = e.get(RecordLayout.INPUT);
    Object file = e.get(RecordLayout.FILE);
    Integer attempts = failure.getInt32("attempts");
    return row(line instanceof Number ? ((Number) line).longValue() : -1,
        input instanceof String ? (String) input : element,
        failure.getString("error_type"), failure.getString("message"),
        attempts == null ? 0 : attempts, file == null ? "" : String.valueOf(file));
  }

  /** The failure row as a line of the failures file (no line end). */
  public static String toJsonLine(Row r) {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(w)) {
      g.writeStartObject();
      g.writeNumberField(LINE, r.getInt64(LINE));
      g.writeFieldName(INPUT);
      g.writeRawValue(r.getString(INPUT));
      g.writeStringField(ERROR_TYPE, r.getString(ERROR_TYPE));
      g.writeStringField(MESSAGE, r.getString(MESSAGE));
      g.writeNumberField(ATTEMPTS, r.getInt32(ATTEMPTS));
      g.writeStringField(FILE, r.getString(FILE));
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }
}
