package org.dspex.beam.connector.protocol;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;

/**
 * The type byte of a V2 frame ({@code docs/protocol.md} section 1.1): one per content format, taken
 * from the codec registry ({@link #of(ContentFormat)}), plus the protocol's own: {@link #REF} and
 * the four stream frames. V1 frames have no type byte and are read as JSON frames.
 *
 * <p>One instance per type, so types compare with {@code ==}; {@link #toString()} is the
 * specification's name ({@code JSON}, {@code REF}, {@code STREAM_CHUNK}, ...).
 */
public final class FrameType {
  /** A MessagePack map {@code {path, offset, length, format}} pointing into the spill directory. */
  public static final FrameType REF = new FrameType(0x04, "REF", null);
  /** MessagePack map {@code {id, n}} opening a stream. */
  public static final FrameType STREAM_START = new FrameType(0x10, "STREAM_START", null);
  /** MessagePack map {@code {id, indexes, failed, usage, body}}, followed by its body frames. */
  public static final FrameType STREAM_CHUNK = new FrameType(0x11, "STREAM_CHUNK", null);
  /** MessagePack map {@code {id, ok, failed, usage}} closing a stream. */
  public static final FrameType STREAM_END = new FrameType(0x12, "STREAM_END", null);
  /** MessagePack map {@code {id, error}}: the handler broke; closes a stream. */
  public static final FrameType STREAM_ERROR = new FrameType(0x13, "STREAM_ERROR", null);

  private static final FrameType[] BY_CODE = new FrameType[256];
  private static final Map<ContentFormat, FrameType> BY_FORMAT = new EnumMap<>(ContentFormat.class);
  private static final List<FrameType> ALL;

  static {
    List<FrameType> all = new ArrayList<>();
    for (ContentFormat f : ContentFormat.values()) {
      FrameType t = new FrameType(f.frameType(), f.name(), f);
      BY_FORMAT.put(f, t);
      all.add(t);
    }
    all.addAll(List.of(REF, STREAM_START, STREAM_CHUNK, STREAM_END, STREAM_ERROR));
    for (FrameType t : all) {
      if (BY_CODE[t.code] != null) {
        throw new IllegalStateException(
            String.format("frame type 0x%02x is both %s and %s", t.code, BY_CODE[t.code], t));
      }
      BY_CODE[t.code] = t;
    }
    ALL = Collections.unmodifiableList(all);
  }

  private final int code;
  private final String name;
  private final ContentFormat contentFormat;

  private FrameType(int code, String name, ContentFormat contentFormat) {
    this.code = code;
    this.name = name;
    this.contentFormat = contentFormat;
  }

  /** The frame type carrying a content format. */
  public static FrameType of(ContentFormat format) {
    return BY_FORMAT.get(Checks.checkNotNull(format, "format"));
  }

  /** The type with this byte, or {@code null} if the byte is not a frame type. */
  public static FrameType fromCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }

  /** The type with this specification name ({@code "ARROW"}, {@code "STREAM_END"}), or {@code null}. */
  public static FrameType fromName(String name) {
    for (FrameType t : ALL) {
      if (t.name.equals(name)) {
        return t;
      }
    }
    return null;
  }

  /** Every frame type: the content formats' in registry order, then REF and the stream frames. */
  public static List<FrameType> values() {
    return ALL;
  }

  /** The type byte on the wire. */
  public int code() {
    return code;
  }

  /** The specification's name of this type, e.g. {@code "MSGPACK"}. */
  public String name() {
    return name;
  }

  /** The content format this frame carries, or {@code null} for REF and the stream frames. */
  public ContentFormat contentFormat() {
    return contentFormat;
  }

  /** Whether a frame of this type may open a message: one of a format that may carry a header. */
  public boolean isHeader() {
    return contentFormat != null && contentFormat.mayCarryHeader();
  }

  /** Whether a frame of this type may follow a header (or a chunk) as a body. */
  public boolean isBody() {
    return contentFormat != null || this == REF;
  }

  /** Whether this is one of the four stream frames of section 6. */
  public boolean isStream() {
    return this == STREAM_START || this == STREAM_CHUNK || this == STREAM_END || this == STREAM_ERROR;
  }

  @Override
  public String toString() {
    return name;
  }
}
