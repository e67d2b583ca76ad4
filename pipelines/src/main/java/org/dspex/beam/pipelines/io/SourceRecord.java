package org.dspex.beam.pipelines.io;

import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One record of an input file, or the reason its line could not be read.
 *
 * @param line where it is: the 1-based line of a JSONL or CSV file (a CSV record's first line), the
 *     1-based row of a Parquet file; for a replayed failures file, the line it first failed on
 * @param inputJson the original record as JSON, or the raw line as a JSON string when it did not
 *     parse: what the failures file's {@code input} holds
 * @param fields the record's fields by name, in file order; null when it did not parse
 * @param errorType why it did not parse (e.g. {@code InvalidJson}); null when it did
 * @param message what was wrong; null when it parsed
 */
public record SourceRecord(
    long line,
    String inputJson,
    @Nullable Map<String, Object> fields,
    @Nullable String errorType,
    @Nullable String message) {

  /** A record that parsed. */
  public static SourceRecord parsed(long line, String inputJson, Map<String, Object> fields) {
    return new SourceRecord(line, inputJson, fields, null, null);
  }

  /** A line that did not parse. */
  public static SourceRecord unreadable(long line, String inputJson, String errorType, String message) {
    return new SourceRecord(line, inputJson, null, errorType, message);
  }

  /** Whether the record parsed. */
  public boolean ok() {
    return fields != null;
  }
}
