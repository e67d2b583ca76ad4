package org.dspex.beam.pipelines.io;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The lines of a UTF-8 text file, read as bytes so that nothing about a line is guessed: a line
 * ends at LF (a CR before it is dropped); a leading byte-order mark is dropped; a line that is not
 * valid UTF-8 says where its first bad byte is (it is decoded with U+FFFD for the failures file,
 * never passed on as a record); a line longer than the limit is skipped to its end without being
 * held in memory, and says how long it was. Memory stays bounded by the limit whatever the file
 * holds (a 2 GB file without a newline is one line too long, not an out-of-memory error).
 *
 * <p>It may start inside a file, at a line start: it is told the byte offset and line number there,
 * and knows both for every line it returns and for where it stands ({@link #offset()}, {@link
 * #nextNumber()}), which is how a block of a file is read and resumed (see {@link ReadSpansFn}).
 */
final class Utf8LineReader implements Closeable {
  /** The longest line read, in bytes, unless the reader is told otherwise: 64 MiB. */
  static final int DEFAULT_MAX_LINE_BYTES = 64 << 20;
  /** The error type of a line that is not valid UTF-8. */
  static final String INVALID_UTF8 = "InvalidUtf8";
  /** The error type of a line over the limit. */
  static final String LINE_TOO_LONG = "LineTooLong";

  private static final int CHUNK = 1 << 16;

  /**
   * One line.
   *
   * @param number the 1-based line number
   * @param text the line without its end (null for a line over the limit); bad bytes as U+FFFD
   * @param invalidAt the offset in the line of its first byte that is not UTF-8, or -1
   * @param bytes the line's length in bytes, without its end
   * @param end the line's end as it was: {@code "\n"}, {@code "\r\n"}, or {@code ""} for a last
   *     line without one
   * @param start the byte offset in the file where the line starts
   */
  record Line(long number, @Nullable String text, long invalidAt, long bytes, String end, long start) {
    /** Whether the line was over the limit (and not read). */
    boolean tooLong() {
      return text == null;
    }

    /** Whether the line is valid UTF-8 within the limit. */
    boolean ok() {
      return text != null && invalidAt < 0;
    }

    /** Whether the line holds nothing but white space (and is no record). */
    boolean blank() {
      return text != null && text.isBlank();
    }

    /**
     * The failure record of a line that is not {@link #ok()}: {@value #LINE_TOO_LONG} naming the
     * limit, or {@value #INVALID_UTF8} naming the first bad byte; the line as text (bad bytes as
     * U+FFFD) is its input, so the failures file shows which record it was.
     */
    SourceRecord failure(int maxLineBytes) {
      if (tooLong()) {
        return SourceRecord.unreadable(number, Json.write("(a line of " + bytes + " bytes, not read)"),
            LINE_TOO_LONG, String.format(java.util.Locale.ROOT, "line %d is %,d bytes, above the limit of %,d"
                + " bytes per line (--max-line-bytes); it was skipped unread", number, bytes, maxLineBytes));
      }
      return SourceRecord.unreadable(number, Json.write(text), INVALID_UTF8, "line " + number
          + " is not valid UTF-8 (byte " + (invalidAt + 1) + " of the line); dspex reads UTF-8 text");
    }
  }

  private final InputStream in;
  private final int maxLineBytes;
  private final byte[] chunk = new byte[CHUNK];
  private int chunkPos;
  private int chunkEnd;
  /** The file offset of {@code chunk[0]}. */
  private long chunkOffset;
  /** The file offset where reading stops (the end of a span). */
  private final long stop;
  private byte[] line = new byte[256];
  private long number;
  private boolean eof;

  /** Reads {@code in} (closed with this reader), a whole file, with lines of at most {@code maxLineBytes}. */
  Utf8LineReader(InputStream in, int maxLineBytes) {
    this(in, maxLineBytes, 0, 1, Long.MAX_VALUE);
  }

  /**
   * Reads {@code in} (closed with this reader), the bytes of a file from {@code offset} on, where
   * line {@code firstLine} starts, up to the offset {@code end} (exclusive) at most, with lines of
   * at most {@code maxLineBytes}. A byte-order mark is dropped only at offset 0.
   */
  Utf8LineReader(InputStream in, int maxLineBytes, long offset, long firstLine, long end) {
    if (maxLineBytes <= 0) {
      throw new IllegalArgumentException("the line limit must be positive, was " + maxLineBytes);
    }
    this.in = in;
    this.maxLineBytes = maxLineBytes;
    this.chunkOffset = offset;
    this.number = firstLine - 1;
    this.stop = end;
  }

  /** The byte offset in the file of what the next {@link #next()} reads: past the last line returned. */
  long offset() {
    return chunkOffset + chunkPos;
  }

  /** The number the next line gets. */
  long nextNumber() {
    return number + 1;
  }

  /** The next line, or null at the end of the file (a final line without LF is a line). */
  @Nullable Line next() throws IOException {
    if (eof && chunkPos >= chunkEnd) {
      return null;
    }
    long start = offset();
    long length = 0;
    boolean sawAny = false;
    boolean sawLf = false;
    while (true) {
      if (chunkPos >= chunkEnd && !fill()) {
        if (!sawAny) {
          return null;
        }
        break;
      }
      sawAny = true;
      int lf = indexOf(chunk, chunkPos, chunkEnd, (byte) '\n');
      int end = lf < 0 ? chunkEnd : lf;
      int n = end - chunkPos;
      if (length + n <= maxLineBytes) {
        ensure((int) length + n);
        System.arraycopy(chunk, chunkPos, line, (int) length, n);
      }
      length += n;
      chunkPos = lf < 0 ? chunkEnd : lf + 1;
      if (lf >= 0) {
        sawLf = true;
        break;
      }
    }
    number++;
    boolean kept = length <= maxLineBytes;
    int from = 0;
    int to = (int) Math.min(length, maxLineBytes);
    String end = sawLf ? "\n" : "";
    if (kept && sawLf && to > 0 && line[to - 1] == '\r') {
      to--;
      end = "\r\n";
    }
    if (kept && start == 0 && to >= 3 && (line[0] & 0xFF) == 0xEF && (line[1] & 0xFF) == 0xBB
        && (line[2] & 0xFF) == 0xBF) {
      from = 3;
    }
    if (!kept) {
      return new Line(number, null, -1, length, end, start);
    }
    long invalidAt = firstInvalid(line, from, to);
    return new Line(number, decodeLenient(line, from, to), invalidAt < 0 ? -1 : invalidAt - from, to - from,
        end, start);
  }

  private void ensure(int size) {
    if (line.length < size) {
      line = Arrays.copyOf(line, Math.max(size, Math.min(maxLineBytes, line.length * 2)));
    }
  }

  private boolean fill() throws IOException {
    if (eof) {
      return false;
    }
    chunkOffset += chunkEnd;
    int n = chunkOffset >= stop ? -1 : in.read(chunk, 0, (int) Math.min(CHUNK, stop - chunkOffset));
    if (n < 0) {
      eof = true;
      chunkPos = 0;
      chunkEnd = 0;
      return false;
    }
    chunkPos = 0;
    chunkEnd = n;
    return true;
  }

  private static int indexOf(byte[] a, int from, int to, byte b) {
    for (int i = from; i < to; i++) {
      if (a[i] == b) {
        return i;
      }
    }
    return -1;
  }

  /** The index of the first byte of {@code a[from, to)} that is not part of valid UTF-8, or -1. */
  static long firstInvalid(byte[] a, int from, int to) {
    int i = from;
    while (i < to && a[i] >= 0) {
      i++;
    }
    if (i == to) {
      return -1;
    }
    CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    // ASCII before i is valid: decoding starts at the first non-ASCII byte.
    ByteBuffer in = ByteBuffer.wrap(a, i, to - i);
    CharBuffer out = CharBuffer.allocate(Math.min(CHUNK, Math.max(16, to - i)));
    while (true) {
      CoderResult r = d.decode(in, out, true);
      if (r.isError()) {
        return in.position();
      }
      if (r.isUnderflow()) {
        r = d.flush(out);
        return r.isError() ? in.position() : -1;
      }
      out.clear();
    }
  }

  private static String decodeLenient(byte[] a, int from, int to) {
    return new String(a, from, to - from, StandardCharsets.UTF_8);
  }

  /** The line limit, in bytes. */
  int maxLineBytes() {
    return maxLineBytes;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
