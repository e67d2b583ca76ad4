package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.util.List;
import java.util.function.Consumer;

/**
 * Cuts an input file into {@link Span blocks} of about {@code blockRecords} records each, so that
 * the blocks of one file are read in parallel, each with exact line numbers: one sequential pass
 * over the bytes that only looks for line ends (JSONL: a block ends after every {@code
 * blockRecords} lines) or runs the CSV quoting ({@link CsvScan}: a block ends only where a record
 * ends, never inside a quoted line break); Parquet blocks are row groups, read from the footer
 * alone, a row group of more than {@code blockRecords} rows cut in up to {@value
 * #MAX_PARTS_PER_ROW_GROUP} parts (each part's reader decodes and drops the rows of its row group
 * before it, so more parts would cost more than they spread). With {@code blockRecords} 0 a file
 * is one block and is not read here.
 *
 * <p>Every record is in exactly one block: text blocks are consecutive byte ranges cut at record
 * starts, the last one ending at the file's end (with or without a final line end).
 */
final class BlockPlanner {
  /** The most parts a Parquet row group is cut in. */
  static final int MAX_PARTS_PER_ROW_GROUP = 4;

  private static final int READ_BYTES = 1 << 20;

  private BlockPlanner() {}

  /**
   * The blocks of {@code file} ({@code size} bytes, from its match), to {@code out}, as they are
   * found (a reader may start on the first before the last is known).
   */
  static void plan(String file, long size, InputFormat format, boolean replay, int blockRecords, int maxLineBytes,
      Consumer<Span> out) throws IOException {
    boolean parquet = format == InputFormat.PARQUET && !replay;
    if (parquet) {
      List<Long> groups;
      try (SeekableByteChannel ch = BeamFiles.openSeekable(file)) {
        groups = ParquetRecordReader.rowGroups(ch, file);
      }
      parquet(groups, blockRecords, out);
      return;
    }
    if (size == 0) {
      return;
    }
    if (blockRecords == 0) {
      out.accept(new Span(0, size, 1));
      return;
    }
    try (InputStream in = Channels.newInputStream(BeamFiles.openSeekable(file))) {
      if (format == InputFormat.CSV && !replay) {
        csv(in, blockRecords, maxLineBytes, out);
      } else {
        jsonl(in, blockRecords, out);
      }
    }
  }

  /**
   * JSONL (or any line-per-record text): a block ends after every {@code blockRecords} lines. Line
   * ends are counted eight bytes at a time (a word without one costs a few operations); only a
   * word holding a block's last line end is looked at byte by byte.
   */
  static void jsonl(InputStream in, int blockRecords, Consumer<Span> out) throws IOException {
    byte[] buf = new byte[READ_BYTES];
    Cuts cuts = new Cuts(blockRecords, out);
    long offset = 0;
    for (int n = in.readNBytes(buf, 0, buf.length); n > 0; n = in.readNBytes(buf, 0, buf.length)) {
      int i = 0;
      for (; i + 8 <= n; i += 8) {
        if (!cuts.skip(Long.bitCount(lineEnds((long) LONGS.get(buf, i))))) {
          lineEnds(buf, i, i + 8, offset, cuts);
        }
      }
      lineEnds(buf, i, n, offset, cuts);
      offset += n;
    }
    cuts.end(offset);
  }

  /** The line ends of {@code buf[from, to)}, whose first byte is at file offset {@code offset}, to {@code cuts}. */
  private static void lineEnds(byte[] buf, int from, int to, long offset, Cuts cuts) {
    for (int j = from; j < to; j++) {
      if (buf[j] == '\n') {
        cuts.lineEnd(offset + j + 1, true);
      }
    }
  }

  /** Where blocks end, as the line ends of a file go by. */
  private static final class Cuts {
    private final int blockRecords;
    private final Consumer<Span> out;
    private long line = 1;
    private long blockStart;
    private long blockLine = 1;
    private long records;

    Cuts(int blockRecords, Consumer<Span> out) {
      this.blockRecords = blockRecords;
      this.out = out;
    }

    /** A line ends before the offset {@code next}, and with it a record when {@code record}. */
    void lineEnd(long next, boolean record) {
      line++;
      if (record && ++records == blockRecords) {
        out.accept(new Span(blockStart, next, blockLine));
        blockStart = next;
        blockLine = line;
        records = 0;
      }
    }

    /** Whether {@code n} line ends, each ending a record, pass without ending a block (and are counted). */
    boolean skip(int n) {
      if (records + n >= blockRecords) {
        return false;
      }
      records += n;
      line += n;
      return true;
    }

    /** The file ends at {@code size}: the last block, if anything is left. */
    void end(long size) {
      if (size > blockStart) {
        out.accept(new Span(blockStart, size, blockLine));
      }
    }
  }

  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;

  /** The word with 0x80 in each byte that is a line end (LF), 0 elsewhere. */
  private static long lineEnds(long word) {
    return matches(word, '\n');
  }

  /** The word with 0x80 in each byte equal to {@code b} (an ASCII character), 0 elsewhere. */
  private static long matches(long word, int b) {
    long x = word ^ (0x0101010101010101L * b);
    return ~(((x & LOW7) + LOW7) | x | LOW7);
  }

  /**
   * CSV: a block ends after every {@code blockRecords} records (the header record opens the first
   * block), at the line end that ends a record. A line over {@code maxLineBytes}, which the reader
   * skips unread as an empty line, leaves the quoting as it found it, as it does for the reader.
   */
  static void csv(InputStream in, int blockRecords, int maxLineBytes, Consumer<Span> out) throws IOException {
    PushbackInputStream text = new PushbackInputStream(in, 3);
    byte[] head = text.readNBytes(3);
    // A byte-order mark is no content (the reader drops it); other first bytes are read again.
    boolean bom = head.length == 3 && (head[0] & 0xFF) == 0xEF && (head[1] & 0xFF) == 0xBB && (head[2] & 0xFF) == 0xBF;
    if (!bom) {
      text.unread(head);
    }
    byte[] buf = new byte[READ_BYTES];
    CsvScan scan = new CsvScan();
    Cuts cuts = new Cuts(blockRecords, out);
    long offset = bom ? 3 : 0;
    long lineStart = 0;
    int lineState = scan.state();
    boolean header = true;
    for (int n = text.readNBytes(buf, 0, buf.length); n > 0; n = text.readNBytes(buf, 0, buf.length)) {
      for (int i = 0; i < n; i++) {
        int sig = scan.significant();
        if (sig >= 0 && (i & 7) == 0 && i + 8 <= n) {
          // Eight bytes at a time through the inside of a field: only its delimiter or a line end matter.
          long word = (long) LONGS.get(buf, i);
          if (lineEnds(word) == 0 && matches(word, sig) == 0) {
            i += 7;
            continue;
          }
        }
        int b = buf[i] & 0xFF;
        if (b != '\n') {
          scan.step(b);
          continue;
        }
        long at = offset + i;
        if (at - lineStart > maxLineBytes) {
          scan.restore(lineState);
        }
        boolean record = scan.step('\n') == CsvScan.RECORD_END;
        cuts.lineEnd(at + 1, record && !header);
        header &= !record;
        lineStart = at + 1;
        lineState = scan.state();
      }
      offset += n;
    }
    cuts.end(offset);
  }

  /**
   * Parquet: spans of rows, one per row group of at most {@code blockRecords} rows, else up to
   * {@value #MAX_PARTS_PER_ROW_GROUP} of about equal size; with {@code blockRecords} 0 one span of
   * all rows.
   */
  static void parquet(List<Long> rowGroups, int blockRecords, Consumer<Span> out) {
    long total = 0;
    for (long rows : rowGroups) {
      total += rows;
    }
    if (blockRecords == 0) {
      if (total > 0) {
        out.accept(new Span(0, total, 1));
      }
      return;
    }
    long first = 0;
    for (long rows : rowGroups) {
      long parts = Math.min(MAX_PARTS_PER_ROW_GROUP, Math.max(1, (rows + blockRecords - 1) / blockRecords));
      for (long k = 0; k < parts; k++) {
        long a = first + rows * k / parts;
        long b = first + rows * (k + 1) / parts;
        if (b > a) {
          out.accept(new Span(a, b, a + 1));
        }
      }
      first += rows;
    }
  }
}
