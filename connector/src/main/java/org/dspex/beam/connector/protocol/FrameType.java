package org.dspex.beam.connector.protocol;

/**
 * The type byte of a V2 frame ({@code docs/protocol.md} section 1.1). V1 frames have no type byte
 * and are read as {@link #JSON}.
 */
public enum FrameType {
  /** UTF-8 JSON text; a header or a body. */
  JSON(0x00),
  /** Exactly one MessagePack value; a header or a body. */
  MSGPACK(0x01),
  /** One Arrow IPC stream; a body. */
  ARROW(0x02),
  /** One NPY version 1.0 image; a body. */
  NUMPY(0x03),
  /** A MessagePack map {@code {path, offset, length, format}} pointing into the spill directory. */
  REF(0x04),
  /** MessagePack map {@code {id, n}} opening a stream. */
  STREAM_START(0x10),
  /** MessagePack map {@code {id, indexes, failed, usage, body}}, followed by its body frames. */
  STREAM_CHUNK(0x11),
  /** MessagePack map {@code {id, ok, failed, usage}} closing a stream. */
  STREAM_END(0x12),
  /** MessagePack map {@code {id, error}}: the handler broke; closes a stream. */
  STREAM_ERROR(0x13);

  private static final FrameType[] BY_CODE = new FrameType[256];

  static {
    for (FrameType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  private final int code;

  FrameType(int code) {
    this.code = code;
  }

  /** The type byte on the wire. */
  public int code() {
    return code;
  }

  /** The type with this byte, or {@code null} if the byte is not a frame type. */
  public static FrameType fromCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }

  /** Whether a frame of this type may open a message. */
  public boolean isHeader() {
    return this == JSON || this == MSGPACK;
  }

  /** Whether a frame of this type may follow a header (or a chunk) as a body. */
  public boolean isBody() {
    return code <= REF.code;
  }

  /** Whether this is one of the four stream frames of section 6. */
  public boolean isStream() {
    return code >= STREAM_START.code;
  }
}
