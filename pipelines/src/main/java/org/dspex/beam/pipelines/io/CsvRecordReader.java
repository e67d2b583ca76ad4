package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * CSV with a header row (RFC 4180: quoted fields may hold commas, quotes as {@code ""} and line
 * breaks). Every value is a string; a record's line is the line it starts on (the header is line
 * 1). A record with more or fewer values than the header is an {@value #INVALID_CSV} record; so is
 * the rest of a file after malformed quoting, which ends the file.
 */
public final class CsvRecordReader implements RecordReader {
  /** The error type of a record that does not fit the header. */
  public static final String INVALID_CSV = "InvalidCsv";

  private static final CSVFormat FORMAT = CSVFormat.RFC4180.builder()
      .setHeader().setSkipHeaderRecord(true).setAllowMissingColumnNames(false).build();

  private final Utf8LinesReader text;
  private final CSVParser parser;
  private final Iterator<CSVRecord> records;
  private final List<String> header;
  private boolean broken;

  /** Reads {@code in} (closed with this reader) with the default line limit; reads the header now. */
  public CsvRecordReader(InputStream in) throws IOException {
    this(in, Utf8LineReader.DEFAULT_MAX_LINE_BYTES);
  }

  /**
   * Reads {@code in} (closed with this reader); a record on a line over {@code maxLineBytes} or not
   * valid UTF-8 fails alone. Reads the header now.
   */
  public CsvRecordReader(InputStream in, int maxLineBytes) throws IOException {
    this.text = new Utf8LinesReader(new Utf8LineReader(in, maxLineBytes));
    try {
      this.parser = CSVParser.parse(text, FORMAT);
    } catch (IllegalArgumentException e) {
      throw new IOException("bad CSV header: " + e.getMessage(), e);
    }
    Utf8LineReader.Line badHeader = text.firstBadLine(1, Math.max(1, parser.getCurrentLineNumber()));
    if (badHeader != null) {
      throw new IOException("the CSV header: " + badHeader.failure(text.maxLineBytes()).message());
    }
    this.header = parser.getHeaderNames();
    this.records = parser.iterator();
  }

  /** The header's column names. */
  public List<String> header() {
    return header;
  }

  @Override
  public @Nullable SourceRecord next() throws IOException {
    if (broken) {
      return null;
    }
    long line = parser.getCurrentLineNumber() + 1;
    CSVRecord r;
    try {
      if (!records.hasNext()) {
        return null;
      }
      r = records.next();
    } catch (UncheckedIOException | IllegalStateException e) {
      broken = true;
      String m = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
      return SourceRecord.unreadable(line, Json.write("(unreadable from here to the end of the file)"),
          INVALID_CSV, "malformed CSV from line " + line + ": " + m);
    }
    Utf8LineReader.Line bad = text.firstBadLine(line, Math.max(line, parser.getCurrentLineNumber()));
    if (bad != null) {
      SourceRecord f = bad.failure(text.maxLineBytes());
      return SourceRecord.unreadable(line, f.inputJson(), f.errorType(), f.message());
    }
    if (r.size() != header.size()) {
      return SourceRecord.unreadable(line, Json.write(String.join(",", r.values())), INVALID_CSV,
          "line " + line + " has " + r.size() + " values, the header " + header.size());
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    for (int i = 0; i < header.size(); i++) {
      fields.put(header.get(i), r.get(i));
    }
    return SourceRecord.parsed(line, Json.write(fields), fields);
  }

  @Override
  public void close() throws IOException {
    parser.close();
  }
}
