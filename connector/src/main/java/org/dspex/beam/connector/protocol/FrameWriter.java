package org.dspex.beam.connector.protocol;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import org.dspex.beam.connector.codec.ContentFormat;

/**
 * Writes frames to a byte stream, V1 or V2 ({@code docs/protocol.md} section 1).
 *
 * <p>A payload larger than {@code max_frame_bytes} is refused with {@link FrameTooLongException}
 * before a byte is written, so the channel stays usable. Heap payloads are written from their
 * array, others (a memory-mapped or direct buffer) through a small scratch buffer: no copy of the
 * whole payload is made.
 *
 * <p>Methods are synchronized on this writer. A caller that writes several frames that must stay
 * contiguous (a message: header and bodies) holds the writer's lock around them ({@code
 * synchronized (writer) {...}}), which is what {@link MessageWriter} does.
 */
public final class FrameWriter implements Flushable, Closeable {
  private static final int BUFFER_BYTES = 64 * 1024;

  private final OutputStream out;
  private final String peer;
  private final int maxFrameBytes;
  private final byte[] prefix = new byte[5];
  private byte[] scratch;
  private volatile ProtocolVersion version = ProtocolVersion.V2;

  /**
   * A writer to {@code out}, in V2 framing until {@link #setVersion(ProtocolVersion)} says otherwise.
   *
   * @param peer names the other side in error messages
   * @param maxFrameBytes the largest payload written ({@code max_frame_bytes})
   */
  public FrameWriter(OutputStream out, String peer, int maxFrameBytes) {
    Checks.checkNotNull(out, "out");
    Checks.checkArgument(maxFrameBytes > 0, "max_frame_bytes must be positive, was %s", maxFrameBytes);
    this.out =
        out instanceof BufferedOutputStream || out instanceof ByteArrayOutputStream
            ? out
            : new BufferedOutputStream(out, BUFFER_BYTES);
    this.peer = peer;
    this.maxFrameBytes = maxFrameBytes;
  }

  /** The framing of the next write. */
  public ProtocolVersion version() {
    return version;
  }

  /** Switches framing, e.g. to V2 after a successful {@code hello}. */
  public synchronized void setVersion(ProtocolVersion newVersion) {
    this.version = Checks.checkNotNull(newVersion, "version");
  }

  /** The limit on a payload's length. */
  public int maxFrameBytes() {
    return maxFrameBytes;
  }

  /** Writes one frame (not flushed). */
  public void write(Frame frame) throws IOException {
    write(frame.type(), frame.payload());
  }

  /**
   * Writes one frame over {@code payload}'s remaining bytes (not flushed; the buffer's position is
   * left as is).
   *
   * @throws FrameTooLongException when the payload exceeds {@code max_frame_bytes}
   * @throws IllegalStateException when a non-JSON frame is written in V1 framing
   */
  public synchronized void write(FrameType type, ByteBuffer payload) throws IOException {
    checkWritable(type, payload.remaining());
    int length = payload.remaining();
    prefix[0] = (byte) (length >>> 24);
    prefix[1] = (byte) (length >>> 16);
    prefix[2] = (byte) (length >>> 8);
    prefix[3] = (byte) length;
    prefix[4] = (byte) type.code();
    out.write(prefix, 0, version.prefixBytes());
    if (payload.hasArray()) {
      out.write(payload.array(), payload.arrayOffset() + payload.position(), length);
      return;
    }
    if (scratch == null) {
      scratch = new byte[BUFFER_BYTES];
    }
    ByteBuffer view = payload.duplicate();
    while (view.hasRemaining()) {
      int n = Math.min(scratch.length, view.remaining());
      view.get(scratch, 0, n);
      out.write(scratch, 0, n);
    }
  }

  /**
   * Checks, without writing, that a frame of this type and length may be written now; lets a
   * message writer refuse a whole message before its first frame.
   */
  public void checkWritable(FrameType type, long length) throws FrameTooLongException {
    if (version == ProtocolVersion.V1 && type.contentFormat() != ContentFormat.JSON) {
      throw new IllegalStateException(
          "a " + type + " frame cannot be written in v1 framing (JSON only) to " + peer);
    }
    if (length > maxFrameBytes) {
      throw ProtocolException.fromPeer(
          peer,
          new FrameTooLongException(
              String.format(
                  "%s frame payload of %d bytes exceeds max_frame_bytes %d",
                  type, length, maxFrameBytes)));
    }
  }

  @Override
  public synchronized void flush() throws IOException {
    out.flush();
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}
