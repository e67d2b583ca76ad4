package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;

/** A Parquet {@link InputFile} over a Beam file's seekable channel (any Beam file system). */
final class ChannelInputFile implements InputFile {
  private final SeekableByteChannel channel;
  private final String name;

  /** The file {@code name} (what Parquet's errors call it) behind {@code channel}. */
  ChannelInputFile(SeekableByteChannel channel, String name) {
    this.channel = channel;
    this.name = name;
  }

  @Override
  public long getLength() throws IOException {
    return channel.size();
  }

  @Override
  public SeekableInputStream newStream() {
    InputStream in = Channels.newInputStream(channel);
    return new DelegatingSeekableInputStream(in) {
      @Override
      public long getPos() throws IOException {
        return channel.position();
      }

      @Override
      public void seek(long newPos) throws IOException {
        channel.position(newPos);
      }
    };
  }

  /** The file's name: Parquet's errors say "NAME is not a Parquet file". */
  @Override
  public String toString() {
    return name;
  }
}
