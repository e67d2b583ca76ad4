package org.dspex.beam.connector.protocol;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One frame: its type and its payload. The payload is shared, not copied: a frame read from the
 * channel wraps the array it was read into, so a large body is never copied on its way to a codec.
 */
public final class Frame {
  private final FrameType type;
  private final ByteBuffer payload;

  /** A frame over {@code payload}'s remaining bytes (shared, not copied). */
  public Frame(FrameType type, ByteBuffer payload) {
    this.type = Objects.requireNonNull(type, "type");
    this.payload = Objects.requireNonNull(payload, "payload").slice();
  }

  /** A frame over the whole array (shared, not copied). */
  public static Frame of(FrameType type, byte[] payload) {
    return new Frame(type, ByteBuffer.wrap(payload));
  }

  /** The frame's type (JSON's for a V1 frame). */
  public FrameType type() {
    return type;
  }

  /** The payload, as a fresh view (position 0) over the shared bytes, so readers never interfere. */
  public ByteBuffer payload() {
    return payload.duplicate();
  }

  /** The payload's length in bytes. */
  public int length() {
    return payload.remaining();
  }

  @Override
  public String toString() {
    return type + "[" + payload.remaining() + " bytes]";
  }
}
