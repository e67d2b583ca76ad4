package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * CSV with a header row (RFC 4180: quoted fields may hold commas, quotes as {@code ""} and line
 * breaks, kept as they were). Every value is a string; a record's line is the line it starts on (the
 * header is line 1). Records end at LF (a CR before it is dropped) outside quotes ({@link CsvScan}).
 * A record that fails goes alone, as an {@value #INVALID_CSV} record when it has more or fewer
 * values than the header or text after a closing quote, as {@code InvalidUtf8} or {@code
 * LineTooLong} when one of its lines is (see {@link Utf8LineReader}), and as {@code LineTooLong}
 * when all its lines together are over the line limit (its values are then not kept). A quoted
 * field still open at the end of the file makes the rest of the file, from the record it is in, one
 * {@value #INVALID_CSV} record.
 */
public final class CsvRecordReader implements RecordReader {
  /** The error type of a record that does not fit the header. */
  public static final String INVALID_CSV = "InvalidCsv";

  private final Utf8LineReader lines;
  private final List<String> header;
  private final CsvScan scan = new CsvScan();
  private long start;

  /** Reads {@code in} (closed with this reader) with the default line limit; reads the header now. */
  public CsvRecordReader(InputStream in) throws IOException {
    this(in, Utf8LineReader.DEFAULT_MAX_LINE_BYTES);
  }

  /**
   * Reads {@code in} (closed with this reader); a record on a line over {@code maxLineBytes} or not
   * valid UTF-8 fails alone. Reads the header now.
   */
  public CsvRecordReader(InputStream in, int maxLineBytes) throws IOException {
    this(new Utf8LineReader(in, maxLineBytes));
  }

  /** Reads a file from its start (closed with this reader); reads the header now. */
  CsvRecordReader(Utf8LineReader lines) throws IOException {
    this(lines, readHeader(lines));
  }

  /** Reads the records of {@code lines} (closed with this reader), a part of a file after its header. */
  CsvRecordReader(Utf8LineReader lines, @Nullable List<String> header) {
    this.lines = lines;
    this.header = header == null ? List.of() : List.copyOf(header);
    this.start = lines.offset();
  }

  /**
   * The header's names: the first record of {@code lines} (not closed here); none for an empty file.
   *
   * @throws IOException when the header is not a row of distinct, non-empty names
   */
  static List<String> readHeader(Utf8LineReader lines) throws IOException {
    Record h = new CsvRecordReader(lines, null).record();
    if (h == null) {
      return List.of();
    }
    if (h.failure != null) {
      throw new IOException("the CSV header: " + h.failure.message());
    }
    Set<String> seen = new HashSet<>();
    for (String name : h.values) {
      if (name.isEmpty()) {
        throw new IOException("bad CSV header: a column name is missing in " + h.values);
      }
      if (!seen.add(name)) {
        throw new IOException("bad CSV header: the column name \"" + name + "\" is given twice in " + h.values);
      }
    }
    return h.values;
  }

  /** The header's column names. */
  public List<String> header() {
    return header;
  }

  @Override
  public @Nullable SourceRecord next() throws IOException {
    Record r = record();
    if (r == null) {
      return null;
    }
    if (r.failure != null) {
      return r.failure;
    }
    if (r.values.size() != header.size()) {
      return SourceRecord.unreadable(r.line, Json.write(String.join(",", r.values)), INVALID_CSV,
          "line " + r.line + " has " + r.values.size() + " values, the header " + header.size());
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    for (int i = 0; i < header.size(); i++) {
      fields.put(header.get(i), r.values.get(i));
    }
    return SourceRecord.parsed(r.line, Json.write(fields), fields);
  }

  /** One record's values, or why it failed. */
  private record Record(long line, List<String> values, @Nullable SourceRecord failure) {}

  /** The next record's lines, split into values; null at the end. */
  private @Nullable Record record() throws IOException {
    Utf8LineReader.Line l = lines.next();
    if (l == null) {
      return null;
    }
    long line = l.number();
    start = l.start();
    scan.reset();
    List<String> values = new ArrayList<>();
    StringBuilder value = new StringBuilder();
    Utf8LineReader.Line bad = null;
    long bytes = 0;
    boolean kept = true;
    while (true) {
      if (!l.ok() && bad == null) {
        bad = l;
      }
      bytes += l.bytes();
      kept &= bytes <= lines.maxLineBytes();
      String text = l.tooLong() ? "" : l.text();
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        int kind = scan.step(c);
        if (kind == CsvScan.CONTENT && kept) {
          value.append(c);
        } else if (kind == CsvScan.FIELD_END) {
          values.add(value.toString());
          value.setLength(0);
        }
      }
      if (scan.step('\n') == CsvScan.RECORD_END) {
        values.add(value.toString());
        break;
      }
      Utf8LineReader.Line more = l.end().isEmpty() ? null : lines.next();
      if (more == null) {
        return new Record(line, List.of(), SourceRecord.unreadable(line,
            Json.write("(unreadable from here to the end of the file)"), INVALID_CSV, "malformed CSV from line "
                + line + ": a quoted field is not closed before the end of the file"));
      }
      bytes += l.end().length();
      if (kept) {
        value.append(l.end());
      }
      l = more;
    }
    if (bad != null) {
      SourceRecord f = bad.failure(lines.maxLineBytes());
      return new Record(line, values, SourceRecord.unreadable(line, f.inputJson(), f.errorType(), f.message()));
    }
    if (!kept) {
      return new Record(line, values, SourceRecord.unreadable(line,
          Json.write("(a record of " + bytes + " bytes, not read)"), Utf8LineReader.LINE_TOO_LONG,
          String.format(Locale.ROOT, "the record from line %d to line %d is %,d bytes, above the limit of %,d bytes"
              + " per line (--max-line-bytes); it was skipped", line, l.number(), bytes, lines.maxLineBytes())));
    }
    if (scan.malformed()) {
      return new Record(line, values, SourceRecord.unreadable(line, Json.write(String.join(",", values)),
          INVALID_CSV, "line " + line + " has text after a closing quote before the next comma or line end"
              + " (RFC 4180 quoting: a quoted field ends at its closing quote)"));
    }
    return new Record(line, values, null);
  }

  @Override
  public long start() {
    return start;
  }

  @Override
  public long end() {
    return lines.offset();
  }

  @Override
  public long endLine() {
    return lines.nextNumber();
  }

  @Override
  public void close() throws IOException {
    lines.close();
  }
}
