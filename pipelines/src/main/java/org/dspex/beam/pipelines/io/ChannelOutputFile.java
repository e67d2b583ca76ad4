package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.io.OutputStream;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;

/**
 * A Parquet {@link OutputFile} that writes a new Beam file (any Beam file system), counting the
 * bytes written for Parquet's offsets. Beam file systems have no block size to align to.
 */
final class ChannelOutputFile implements OutputFile {
  private final String spec;

  /** The file {@code spec}, created (or replaced) when Parquet asks for its stream. */
  ChannelOutputFile(String spec) {
    this.spec = spec;
  }

  @Override
  public PositionOutputStream create(long blockSizeHint) throws IOException {
    OutputStream out = BeamFiles.outputStream(spec);
    return new PositionOutputStream() {
      private long pos;

      @Override
      public long getPos() {
        return pos;
      }

      @Override
      public void write(int b) throws IOException {
        out.write(b);
        pos++;
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        pos += len;
      }

      @Override
      public void flush() throws IOException {
        out.flush();
      }

      @Override
      public void close() throws IOException {
        out.close();
      }
    };
  }

  @Override
  public PositionOutputStream createOrOverwrite(long blockSizeHint) throws IOException {
    return create(blockSizeHint);
  }

  @Override
  public boolean supportsBlockSize() {
    return false;
  }

  @Override
  public long defaultBlockSize() {
    return 0;
  }

  @Override
  public String getPath() {
    return spec;
  }
}
