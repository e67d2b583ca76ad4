package org.dspex.beam.connector.codec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.arrow.flatbuf.Message;

/**
 * Walks the messages of an Arrow IPC stream and checks every length against the bytes that are
 * there, before Arrow's reader sees them. Arrow allocates a message's metadata and body by the
 * lengths the stream announces: text mistaken for a stream ({@code "this..."} reads as nearly 2
 * GB) would otherwise cost a huge allocation before failing, the very thing the frame reader
 * refuses to do.
 */
final class ArrowFraming {
  private static final int CONTINUATION = 0xFFFFFFFF;

  private ArrowFraming() {}

  /** Throws unless the stream's messages and end-of-stream marker fit the payload exactly. */
  static void check(ByteBuffer payload) throws CorruptedPayloadException {
    ByteBuffer b = payload.slice().order(ByteOrder.LITTLE_ENDIAN);
    int n = b.remaining();
    int pos = 0;
    int index = 0;
    while (true) {
      if (n - pos < 4) {
        if (pos == n && index > 0) {
          // Readers take end of input as the end of the stream, marker or not; so does Arrow's.
          return;
        }
        throw CodecErrors.corrupted(payload, "Arrow stream ends inside message " + index + "'s length", null);
      }
      int length = b.getInt(pos);
      pos += 4;
      if (length == CONTINUATION) {
        if (n - pos < 4) {
          throw CodecErrors.corrupted(payload, "Arrow stream ends after a continuation marker", null);
        }
        length = b.getInt(pos);
        pos += 4;
      }
      if (length == 0) {
        return;
      }
      if (length < 0 || length > n - pos) {
        throw CodecErrors.corrupted(
            payload,
            String.format(
                "Arrow message %d announces %d metadata bytes, %d are left", index, Integer.toUnsignedLong(length), n - pos),
            null);
      }
      long body;
      try {
        ByteBuffer meta = b.slice(pos, length).order(ByteOrder.LITTLE_ENDIAN);
        body = Message.getRootAsMessage(meta).bodyLength();
      } catch (RuntimeException e) {
        throw CodecErrors.corrupted(payload, "Arrow message " + index + " has unreadable metadata", e);
      }
      pos += length;
      if (body < 0 || body > n - pos) {
        throw CodecErrors.corrupted(
            payload,
            String.format("Arrow message %d announces a %d-byte body, %d bytes are left", index, body, n - pos),
            null);
      }
      pos += (int) body;
      index++;
    }
  }
}
