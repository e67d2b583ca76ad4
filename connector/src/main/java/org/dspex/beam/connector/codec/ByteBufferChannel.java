package org.dspex.beam.connector.codec;

import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * A readable channel over a buffer's remaining bytes, copying only into the reader's own buffer.
 * Lets libraries that read channels (Arrow's stream reader, msgpack's unpacker) read a
 * memory-mapped REF body without a whole copy, and without msgpack's direct-buffer access, which
 * needs {@code --add-opens java.base/sun.nio.ch} on Java 17.
 */
final class ByteBufferChannel implements ReadableByteChannel {
  private final ByteBuffer src;
  private boolean open = true;

  ByteBufferChannel(ByteBuffer payload) {
    this.src = payload.duplicate();
  }

  @Override
  public int read(ByteBuffer dst) {
    if (!src.hasRemaining()) {
      return -1;
    }
    int n = Math.min(dst.remaining(), src.remaining());
    ByteBuffer chunk = src.slice();
    chunk.limit(n);
    dst.put(chunk);
    src.position(src.position() + n);
    return n;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() {
    open = false;
  }
}
