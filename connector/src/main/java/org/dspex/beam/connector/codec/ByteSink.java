package org.dspex.beam.connector.codec;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A growable in-memory output whose bytes are handed out without the copy that {@code
 * ByteArrayOutputStream.toByteArray()} makes: an encoded body goes from here to the frame writer
 * as is. Not thread-safe; one per encoding.
 */
final class ByteSink extends OutputStream {
  private byte[] buf;
  private int count;

  ByteSink(int initialCapacity) {
    buf = new byte[Math.max(16, initialCapacity)];
  }

  private void ensure(int extra) {
    long need = (long) count + extra;
    if (need > buf.length) {
      if (need > Integer.MAX_VALUE - 8) {
        throw new OutOfMemoryError("encoded payload above 2 GiB, the limit of a Java array");
      }
      long grown = Math.max(need, Math.min((long) buf.length * 2, Integer.MAX_VALUE - 8));
      buf = Arrays.copyOf(buf, (int) grown);
    }
  }

  @Override
  public void write(int b) {
    ensure(1);
    buf[count++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    ensure(len);
    System.arraycopy(b, off, buf, count, len);
    count += len;
  }

  int size() {
    return count;
  }

  /** The bytes written so far, shared (not copied). */
  ByteBuffer toByteBuffer() {
    return ByteBuffer.wrap(buf, 0, count).slice();
  }
}
