package org.dspex.beam.pipelines.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * JSONL: one JSON object a line. Line ends LF or CRLF; a leading BOM is dropped; blank lines are
 * skipped (they are no record) but counted. A line that is not a JSON object is an {@value
 * #INVALID_JSON} record holding the raw line.
 */
public final class JsonLinesReader implements RecordReader {
  /** The error type of a line that is not a JSON object. */
  public static final String INVALID_JSON = "InvalidJson";

  private final BufferedReader in;
  private long line;

  /** Reads {@code in} (closed with this reader). */
  public JsonLinesReader(InputStream in) throws IOException {
    this.in = Utf8Lines.reader(in);
  }

  @Override
  public @Nullable SourceRecord next() throws IOException {
    String raw;
    do {
      raw = in.readLine();
      if (raw == null) {
        return null;
      }
      line++;
    } while (raw.isBlank());
    return parseLine(line, raw);
  }

  /** One line as a record, or as an {@value #INVALID_JSON} one holding the raw line. */
  public static SourceRecord parseLine(long line, String raw) {
    String text = raw.strip();
    try {
      Object v = Json.parse(text);
      if (v instanceof Map) {
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = (Map<String, Object>) v;
        return SourceRecord.parsed(line, text, new LinkedHashMap<>(fields));
      }
      return SourceRecord.unreadable(line, Json.write(raw), INVALID_JSON,
          "line " + line + " is a JSON " + kind(v) + ", not an object");
    } catch (JsonProcessingException e) {
      return SourceRecord.unreadable(line, Json.write(raw), INVALID_JSON,
          "line " + line + " is not valid JSON: " + Json.shortMessage(e));
    }
  }

  private static String kind(Object v) {
    return v == null ? "null" : v instanceof java.util.List ? "array" : v instanceof String ? "string"
        : v instanceof Boolean ? "boolean" : "number";
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
