package org.dspex.beam.pipelines.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * JSONL: one JSON object a line. Line ends LF or CRLF; a leading BOM is dropped; blank lines are
 * skipped (they are no record) but counted. A line that is not a JSON object is an {@value
 * #INVALID_JSON} record holding the raw line; one that is not UTF-8 an {@code InvalidUtf8} record,
 * one over the line limit a {@code LineTooLong} record (see {@link Utf8LineReader}).
 */
public final class JsonLinesReader implements RecordReader {
  /** The error type of a line that is not a JSON object. */
  public static final String INVALID_JSON = "InvalidJson";

  private final Utf8LineReader in;
  private long start;

  /** Reads {@code in} (closed with this reader) with the default line limit. */
  public JsonLinesReader(InputStream in) {
    this(in, Utf8LineReader.DEFAULT_MAX_LINE_BYTES);
  }

  /** Reads {@code in} (closed with this reader); lines over {@code maxLineBytes} are not read. */
  public JsonLinesReader(InputStream in, int maxLineBytes) {
    this(new Utf8LineReader(in, maxLineBytes));
  }

  /** Reads the lines of {@code in} (closed with this reader), which may start inside a file. */
  JsonLinesReader(Utf8LineReader in) {
    this.in = in;
    this.start = in.offset();
  }

  @Override
  public @Nullable SourceRecord next() throws IOException {
    Utf8LineReader.Line l;
    do {
      l = in.next();
      if (l == null) {
        return null;
      }
    } while (l.blank());
    start = l.start();
    return l.ok() ? parseLine(l.number(), l.text()) : l.failure(in.maxLineBytes());
  }

  @Override
  public long start() {
    return start;
  }

  @Override
  public long end() {
    return in.offset();
  }

  @Override
  public long endLine() {
    return in.nextNumber();
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
