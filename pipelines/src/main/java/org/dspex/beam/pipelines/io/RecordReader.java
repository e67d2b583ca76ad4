package org.dspex.beam.pipelines.io;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Reads one input file, or one {@link Span} of it, record by record, in order, each with its line
 * number: the same code reads the first records at launch (to check fields) and every record in
 * the pipeline. It says where each record starts and where it stands after it (byte offsets of a
 * text file, 0-based rows of a Parquet file), which is what {@link SpanTracker} claims.
 */
public interface RecordReader extends Closeable {
  /** The next record, or null at the end of the file (or span). */
  @Nullable SourceRecord next() throws IOException;

  /** Where the record last returned by {@link #next()} starts: its byte offset, or its 0-based row. */
  long start();

  /** Where the reader stands past the record last returned (or at its start): a byte offset or row. */
  long end();

  /** The line number (1-based row) at {@link #end()}. */
  long endLine();

  /** {@link #open(String, InputFormat, SeekableByteChannel, boolean, int)}: the default line limit. */
  static RecordReader open(InputFormat format, SeekableByteChannel channel, boolean replay) throws IOException {
    return open("input", format, channel, replay, Utf8LineReader.DEFAULT_MAX_LINE_BYTES);
  }

  /**
   * A reader of {@code format} over {@code channel} of the whole file {@code name}; with {@code
   * replay}, a failures file whose {@code input} values are read again (see {@link ReplayReader}).
   * Text lines over {@code maxLineBytes} are failed unread.
   */
  static RecordReader open(String name, InputFormat format, SeekableByteChannel channel, boolean replay,
      int maxLineBytes) throws IOException {
    if (format == InputFormat.PARQUET && !replay) {
      return ParquetRecordReader.rows(channel, name, 0, Long.MAX_VALUE);
    }
    return text(format, replay, new Utf8LineReader(Channels.newInputStream(channel), maxLineBytes), () -> null);
  }

  /**
   * A reader of the span {@code span} of the file {@code file} (any Beam file system), which it
   * opens and closes. A CSV span after the file's start reads the header from the start first.
   */
  static RecordReader open(String file, InputFormat format, boolean replay, int maxLineBytes, Span span)
      throws IOException {
    SeekableByteChannel ch = BeamFiles.openSeekable(file);
    try {
      if (format == InputFormat.PARQUET && !replay) {
        return ParquetRecordReader.rows(ch, file, span.from(), span.to());
      }
      ch.position(span.from());
      InputStream in = Channels.newInputStream(ch);
      return text(format, replay, new Utf8LineReader(in, maxLineBytes, span.from(), span.line(), span.to()), () -> {
        try (SeekableByteChannel head = BeamFiles.openSeekable(file)) {
          return CsvRecordReader.readHeader(new Utf8LineReader(Channels.newInputStream(head), maxLineBytes));
        }
      });
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Where a CSV span after the file's start gets the header from. */
  @FunctionalInterface
  interface HeaderSource {
    /** The header's names, read from the file's start. */
    @Nullable List<String> header() throws IOException;
  }

  private static RecordReader text(InputFormat format, boolean replay, Utf8LineReader lines, HeaderSource header)
      throws IOException {
    if (replay) {
      return new ReplayReader(new JsonLinesReader(lines));
    }
    switch (format) {
      case JSONL:
        return new JsonLinesReader(lines);
      case CSV:
        return lines.offset() == 0 ? new CsvRecordReader(lines) : new CsvRecordReader(lines, header.header());
      default:
        throw new IllegalArgumentException("format " + format);
    }
  }
}
