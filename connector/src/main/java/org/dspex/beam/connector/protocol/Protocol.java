package org.dspex.beam.connector.protocol;

/**
 * How a body travels ({@code docs/protocol.md} section 5): chosen per body by {@link #AUTO}, or
 * forced by the caller. The wire names ({@code json}, {@code msgpack}, {@code arrow}, {@code numpy},
 * {@code ref}) are used everywhere: in headers, settings, metrics and benchmark files.
 */
public enum Protocol {
  /** Decide from the body's shape and size (section 5); the default. */
  AUTO("auto", null),
  /** Inline JSON in {@code args}/{@code result}. */
  JSON("json", FrameType.JSON),
  /** A MessagePack body frame. */
  MSGPACK("msgpack", FrameType.MSGPACK),
  /** An Arrow IPC stream body frame (records as a table). */
  ARROW("arrow", FrameType.ARROW),
  /** An NPY body frame (numeric arrays). */
  NUMPY("numpy", FrameType.NUMPY),
  /** The content format AUTO would pick, always spilled to a file and sent as a REF frame. */
  REF("ref", FrameType.REF);

  private final String wireName;
  private final FrameType frameType;

  Protocol(String wireName, FrameType frameType) {
    this.wireName = wireName;
    this.frameType = frameType;
  }

  /** The name on the wire and in settings, e.g. {@code "msgpack"}. */
  public String wireName() {
    return wireName;
  }

  /** The frame type carrying this format, or {@code null} for {@link #AUTO}. */
  public FrameType frameType() {
    return frameType;
  }

  /** Whether this is a content format, one a header's {@code body[].format} may name. */
  public boolean isContentFormat() {
    return this == JSON || this == MSGPACK || this == ARROW || this == NUMPY;
  }

  /**
   * The format with this wire name.
   *
   * @throws IllegalArgumentException for an unknown name, listing the known ones
   */
  public static Protocol fromWireName(String name) {
    for (Protocol p : values()) {
      if (p.wireName.equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown format '" + name + "'; known: auto, json, msgpack, arrow, numpy, ref");
  }

  /** The content format with this wire name, or {@code null} if {@code name} is not one. */
  public static Protocol contentFormat(String name) {
    for (Protocol p : values()) {
      if (p.isContentFormat() && p.wireName.equals(name)) {
        return p;
      }
    }
    return null;
  }

  /** The content format carried by frames of this type, or {@code null} for REF and stream frames. */
  public static Protocol ofFrameType(FrameType type) {
    for (Protocol p : values()) {
      if (p.isContentFormat() && p.frameType == type) {
        return p;
      }
    }
    return null;
  }
}
