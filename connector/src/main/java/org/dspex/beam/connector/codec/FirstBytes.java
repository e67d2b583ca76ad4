package org.dspex.beam.connector.codec;

import java.nio.ByteBuffer;

/**
 * Renders the first bytes of a bad frame or payload for an error message, as hex and as ASCII
 * ({@code docs/protocol.md} section 8): {@code 48 54 54 50 2f 31 2e 31 20 32 30 30 |HTTP/1.1 200|}.
 *
 * <p>Seeing the bytes is what tells a banner, an HTTP response or a Python traceback on the
 * channel apart from a framing bug, so every error found in bytes carries them.
 */
public final class FirstBytes {
  /** At most this many bytes are shown. */
  public static final int MAX_SHOWN = 32;

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private FirstBytes() {}

  /** Renders up to {@link #MAX_SHOWN} bytes of {@code bytes[offset, offset + length)}. */
  public static String render(byte[] bytes, int offset, int length) {
    int n = Math.min(length, MAX_SHOWN);
    if (n <= 0) {
      return "(none)";
    }
    StringBuilder hex = new StringBuilder(n * 3 + n + 3);
    StringBuilder ascii = new StringBuilder(n + 2).append('|');
    for (int i = 0; i < n; i++) {
      int b = bytes[offset + i] & 0xff;
      if (i > 0) {
        hex.append(' ');
      }
      hex.append(HEX[b >>> 4]).append(HEX[b & 0xf]);
      ascii.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
    }
    return hex.append(' ').append(ascii.append('|')).toString();
  }

  /** Renders up to {@link #MAX_SHOWN} bytes from the buffer's position, leaving the buffer as is. */
  public static String render(ByteBuffer buffer) {
    int n = Math.min(buffer.remaining(), MAX_SHOWN);
    byte[] head = new byte[n];
    buffer.duplicate().get(head);
    return render(head, 0, n);
  }
}
