package org.dspex.beam.pipelines.io;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Reads one input file record by record, in order, each with its line number: the same code reads
 * the first records at launch (to check fields) and every record in the pipeline.
 */
public interface RecordReader extends Closeable {
  /** The next record, or null at the end of the file. */
  @Nullable SourceRecord next() throws IOException;

  /** {@link #open(String, InputFormat, SeekableByteChannel, boolean, int)}: the default line limit. */
  static RecordReader open(InputFormat format, SeekableByteChannel channel, boolean replay) throws IOException {
    return open("input", format, channel, replay, Utf8LineReader.DEFAULT_MAX_LINE_BYTES);
  }

  /**
   * A reader of {@code format} over {@code channel} of the file {@code name}; with {@code replay}, a
   * failures file whose {@code input} values are read again (see {@link ReplayReader}). Text lines
   * over {@code maxLineBytes} are failed unread.
   */
  static RecordReader open(String name, InputFormat format, SeekableByteChannel channel, boolean replay,
      int maxLineBytes) throws IOException {
    if (replay) {
      return new ReplayReader(new JsonLinesReader(stream(channel), maxLineBytes));
    }
    switch (format) {
      case JSONL:
        return new JsonLinesReader(stream(channel), maxLineBytes);
      case CSV:
        return new CsvRecordReader(stream(channel), maxLineBytes);
      case PARQUET:
        return new ParquetRecordReader(channel, name);
      default:
        throw new IllegalArgumentException("format " + format);
    }
  }

  private static InputStream stream(SeekableByteChannel channel) {
    return Channels.newInputStream(channel);
  }
}
