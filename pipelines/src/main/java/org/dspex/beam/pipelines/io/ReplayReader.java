package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A failures file ({@code <output>.failures.jsonl}) read as input: each line's {@code input} is
 * the record to run again, under the {@code line} it first failed on, so a retry's own failures
 * still point at the original file. An {@code input} that is a string (a line that did not parse)
 * is parsed again as a JSONL line.
 */
public final class ReplayReader implements RecordReader {
  private final JsonLinesReader failures;

  /** Reads the failures file that {@code failures} reads. */
  public ReplayReader(JsonLinesReader failures) {
    this.failures = failures;
  }

  /** Whether a record looks like a line of a failures file. */
  public static boolean isFailureRecord(Map<String, Object> fields) {
    return fields.containsKey(FailureRecords.INPUT) && fields.containsKey(FailureRecords.ERROR_TYPE)
        && fields.containsKey(FailureRecords.LINE);
  }

  @Override
  public @Nullable SourceRecord next() throws IOException {
    SourceRecord r = failures.next();
    if (r == null || !r.ok()) {
      return r;
    }
    Map<String, Object> f = r.fields();
    if (!isFailureRecord(f)) {
      return SourceRecord.unreadable(r.line(), r.inputJson(), JsonLinesReader.INVALID_JSON,
          "line " + r.line() + " of the failures file has no 'line', 'input' and 'error_type'");
    }
    long line = f.get(FailureRecords.LINE) instanceof Number ? ((Number) f.get(FailureRecords.LINE)).longValue() : r.line();
    Object input = f.get(FailureRecords.INPUT);
    if (input instanceof Map) {
      @SuppressWarnings("unchecked")
      Map<String, Object> fields = new LinkedHashMap<>((Map<String, Object>) input);
      return SourceRecord.parsed(line, Json.write(input), fields);
    }
    return JsonLinesReader.parseLine(line, input == null ? "null" : String.valueOf(input));
  }

  @Override
  public long start() {
    return failures.start();
  }

  @Override
  public long end() {
    return failures.end();
  }

  @Override
  public long endLine() {
    return failures.endLine();
  }

  @Override
  public void close() throws IOException {
    failures.close();
  }
}
