package org.dspex.beam.connector.protocol;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.FirstBytes;

/**
 * Reads frames from a byte stream: V1 ({@code [u32 length][JSON]}) or V2 ({@code [u32 length][u8
 * type][payload]}), see {@code docs/protocol.md} section 1.
 *
 * <p>The length is checked against {@code max_frame_bytes} before anything is allocated for the
 * payload, so garbage on the channel (a banner, {@code HTTP/1.1 200}, a traceback) fails at once
 * with {@link FrameTooLongException} instead of an allocation. Every error names the peer and the
 * first bytes seen; after an error the stream cannot be trusted and should be closed.
 *
 * <p>Memory follows the bytes that arrive, not the length announced: a payload up to {@link
 * #FIRST_READ_BYTES} is read into an array of its length, a longer one into chunks, each as large
 * as all before it, until half of it has come, and then into its own array (the chunks copied in
 * once). A peer that announces {@code max_frame_bytes} and sends a few bytes costs a megabyte;
 * a long payload that does arrive costs one copy of its first half. A reader is used by one thread
 * at a time (a connection's reading thread); {@link #setVersion(ProtocolVersion)} may be called
 * from another thread between frames.
 */
public final class FrameReader {
  /** Payloads up to this length are read into an array of their length at once; see above. */
  public static final int FIRST_READ_BYTES = 1024 * 1024;

  private static final int BUFFER_BYTES = 64 * 1024;

  private final InputStream in;
  private final String peer;
  private final int maxFrameBytes;
  private final byte[] prefix = new byte[5];
  private volatile ProtocolVersion version = ProtocolVersion.V2;

  /**
   * A reader of {@code in}, in V2 framing until {@link #setVersion(ProtocolVersion)} says otherwise.
   *
   * @param peer names the other side in error messages, e.g. {@code "worker 3 (pid 1234)"}
   * @param maxFrameBytes the largest payload accepted ({@code max_frame_bytes})
   */
  public FrameReader(InputStream in, String peer, int maxFrameBytes) {
    Checks.checkNotNull(in, "in");
    Checks.checkArgument(maxFrameBytes > 0, "max_frame_bytes must be positive, was %s", maxFrameBytes);
    this.in = buffered(in);
    this.peer = peer;
    this.maxFrameBytes = maxFrameBytes;
  }

  private static InputStream buffered(InputStream in) {
    // Prefixes are 4-5 bytes; unbuffered, each would cost a system call on a process pipe.
    // Large payloads still bypass the buffer (BufferedInputStream reads them directly).
    return in instanceof BufferedInputStream || in instanceof ByteArrayInputStream
        ? in
        : new BufferedInputStream(in, BUFFER_BYTES);
  }

  /** The framing of the next {@link #read()}. */
  public ProtocolVersion version() {
    return version;
  }

  /** Switches framing, e.g. to V2 after a successful {@code hello}. */
  public void setVersion(ProtocolVersion newVersion) {
    this.version = Checks.checkNotNull(newVersion, "version");
  }

  /** The peer named in error messages. */
  public String peer() {
    return peer;
  }

  /** The limit on a payload's length. */
  public int maxFrameBytes() {
    return maxFrameBytes;
  }

  /**
   * Reads the next frame, or returns {@code null} when the stream ends cleanly between frames.
   *
   * @throws FrameTooLongException when the length exceeds {@code max_frame_bytes}
   * @throws UnknownFrameTypeException when a V2 type byte is not a frame type
   * @throws TruncatedFrameException when the stream ends inside a frame
   * @throws IOException when the underlying stream fails
   */
  public Frame read() throws IOException {
    ProtocolVersion v = version;
    int prefixBytes = v.prefixBytes();
    int got = in.readNBytes(prefix, 0, prefixBytes);
    if (got == 0) {
      return null;
    }
    if (got < prefixBytes) {
      throw error(
          new TruncatedFrameException(
              String.format(
                  "stream ended inside a %s frame prefix after %d of %d bytes; first bytes: %s",
                  v.wireName(), got, prefixBytes, FirstBytes.render(prefix, 0, got))));
    }
    long length = Integer.toUnsignedLong(ByteBuffer.wrap(prefix, 0, 4).getInt());
    if (length > maxFrameBytes) {
      throw error(
          new FrameTooLongException(
              String.format(
                  "frame length %d exceeds max_frame_bytes %d; first bytes: %s",
                  length, maxFrameBytes, seenWithMore(prefixBytes))));
    }
    FrameType type = FrameType.of(ContentFormat.JSON);
    if (v == ProtocolVersion.V2) {
      int code = prefix[4] & 0xff;
      type = FrameType.fromCode(code);
      if (type == null) {
        throw error(
            new UnknownFrameTypeException(
                String.format(
                    "unknown frame type 0x%02x; first bytes: %s", code, seenWithMore(prefixBytes))));
      }
    }
    return Frame.of(type, readPayload((int) length, v == ProtocolVersion.V1 ? "v1" : type.name(), prefixBytes));
  }

  /** The payload of a frame ({@code what}: its type, for the message if the stream ends first). */
  private byte[] readPayload(int length, String what, int prefixBytes) throws IOException {
    if (length <= FIRST_READ_BYTES) {
      byte[] payload = new byte[length];
      int read = in.readNBytes(payload, 0, length);
      if (read < length) {
        throw truncated(what, prefixBytes, payload, read, length);
      }
      return payload;
    }
    List<byte[]> chunks = new ArrayList<>();
    int got = 0;
    while (got < length - got) {
      byte[] chunk = new byte[Math.min(Math.max(FIRST_READ_BYTES, got), length - got)];
      int read = in.readNBytes(chunk, 0, chunk.length);
      if (read < chunk.length) {
        throw truncated(what, prefixBytes, chunks.isEmpty() ? chunk : chunks.get(0), got + read, length);
      }
      chunks.add(chunk);
      got += read;
    }
    byte[] payload = new byte[length];
    int at = 0;
    for (byte[] chunk : chunks) {
      System.arraycopy(chunk, 0, payload, at, chunk.length);
      at += chunk.length;
    }
    chunks.clear();
    int read = in.readNBytes(payload, at, length - at);
    if (read < length - at) {
      throw truncated(what, prefixBytes, payload, at + read, length);
    }
    return payload;
  }

  /** The stream ended after {@code read} of {@code length} payload bytes; {@code head} holds the first. */
  private TruncatedFrameException truncated(String what, int prefixBytes, byte[] head, long read, long length) {
    byte[] seen = Arrays.copyOf(prefix, (int) Math.min(FirstBytes.MAX_SHOWN, prefixBytes + read));
    System.arraycopy(head, 0, seen, prefixBytes, seen.length - prefixBytes);
    return error(
        new TruncatedFrameException(
            String.format(
                "stream ended inside a %s frame after %d of %d payload bytes; first bytes: %s",
                what, read, length, FirstBytes.render(seen, 0, seen.length))));
  }

  /**
   * The prefix plus whatever else is already available (without blocking), up to {@link
   * FirstBytes#MAX_SHOWN}: {@code HTTP/1.1 200} says more than {@code HTTP/}. The channel is broken
   * at this point, so consuming more of it costs nothing.
   */
  private String seenWithMore(int prefixBytes) {
    byte[] seen = Arrays.copyOf(prefix, FirstBytes.MAX_SHOWN);
    int n = prefixBytes;
    try {
      while (n < seen.length && in.available() > 0) {
        int r = in.read(seen, n, Math.min(seen.length - n, in.available()));
        if (r <= 0) {
          break;
        }
        n += r;
      }
    } catch (IOException ignored) {
      // The bytes are only for the message; the error being reported is the one that matters.
    }
    return FirstBytes.render(seen, 0, n);
  }

  private <E extends ProtocolException> E error(E e) {
    return ProtocolException.fromPeer(peer, e);
  }
}
