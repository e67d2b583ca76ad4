package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.io.Reader;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The text of a {@link Utf8LineReader} as a {@link Reader}, for parsers that want characters (the
 * CSV parser): each line with its own end, a line over the limit as an empty line. Lines that are
 * not {@link Utf8LineReader.Line#ok() ok} are remembered by number, so that the parser's caller can
 * fail the record that spans one ({@link #firstBadLine}), however far the parser read ahead.
 */
final class Utf8LinesReader extends Reader {
  private final Utf8LineReader lines;
  private final NavigableMap<Long, Utf8LineReader.Line> bad = new TreeMap<>();
  private String current = "";
  private int pos;
  private boolean done;

  Utf8LinesReader(Utf8LineReader lines) {
    this.lines = lines;
  }

  @Override
  public int read(char[] buf, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    while (pos >= current.length()) {
      if (done) {
        return -1;
      }
      Utf8LineReader.Line l = lines.next();
      if (l == null) {
        done = true;
        return -1;
      }
      if (!l.ok()) {
        bad.put(l.number(), l);
      }
      current = (l.tooLong() ? "" : l.text()) + l.end();
      pos = 0;
    }
    int n = Math.min(len, current.length() - pos);
    current.getChars(pos, pos + n, buf, off);
    pos += n;
    return n;
  }

  /**
   * The first line of {@code [from, to]} that was not valid UTF-8 or over the limit, or null; lines
   * before {@code from} are forgotten (records come in order).
   */
  Utf8LineReader.@Nullable Line firstBadLine(long from, long to) {
    bad.headMap(from, false).clear();
    var e = bad.ceilingEntry(from);
    return e != null && e.getKey() <= to ? e.getValue() : null;
  }

  /** The line limit, in bytes. */
  int maxLineBytes() {
    return lines.maxLineBytes();
  }

  @Override
  public void close() throws IOException {
    lines.close();
  }
}
