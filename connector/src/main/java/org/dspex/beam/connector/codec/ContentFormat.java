package org.dspex.beam.connector.codec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.LongFunction;

/**
 * The content formats, and the one registry of them ({@code docs/protocol.md} sections 1.1 and 3):
 * each constant says its wire name, the type byte of its V2 frames, what it can carry and how its
 * codec is made. Frames, message headers, body listings, REF maps, metrics and the transforms'
 * settings all read this list, so adding a format is one constant here, its {@link Codec} class and
 * its golden frames.
 *
 * <p>The wire names ({@code json}, {@code msgpack}, {@code arrow}, {@code numpy}) are used
 * everywhere: in headers, REF maps, settings, metric names and benchmark files. How a body is sent
 * (chosen by {@code AUTO}, forced, or spilled) is the protocol's concern, not the format's.
 */
public enum ContentFormat {
  /** UTF-8 JSON (section 3.1); a header or a body, which then goes inline. */
  JSON("json", 0x00, Carries.ANY_VALUE, memoryLimitBytes -> new JsonCodec()),
  /** One MessagePack value (section 3.2); a header or a body. */
  MSGPACK("msgpack", 0x01, Carries.ANY_VALUE, memoryLimitBytes -> new MsgpackCodec()),
  /** One Arrow IPC stream (section 3.3): records as a table. */
  ARROW("arrow", 0x02, Carries.RECORDS, ArrowCodec::new),
  /** One NPY version 1.0 image (section 3.4): a numeric array. */
  NUMPY("numpy", 0x03, Carries.NUMERIC_ARRAYS, memoryLimitBytes -> new NumpyCodec());

  /** What values a format can carry, from the most general down. */
  public enum Carries {
    /** Any value of the value model: a header (a map), a list of records, a scalar. */
    ANY_VALUE,
    /** Tables: a list of records, or of scalars as one column. */
    RECORDS,
    /** Numeric arrays only (embeddings). */
    NUMERIC_ARRAYS
  }

  private static final List<String> WIRE_NAMES;

  static {
    List<String> names = new ArrayList<>();
    for (ContentFormat f : values()) {
      names.add(f.wireName);
    }
    WIRE_NAMES = Collections.unmodifiableList(names);
  }

  private final String wireName;
  private final int frameType;
  private final Carries carries;
  private final LongFunction<Codec> codecFactory;

  ContentFormat(String wireName, int frameType, Carries carries, LongFunction<Codec> codecFactory) {
    this.wireName = wireName;
    this.frameType = frameType;
    this.carries = carries;
    this.codecFactory = codecFactory;
  }

  /** The name on the wire and in settings, e.g. {@code "msgpack"}. */
  public String wireName() {
    return wireName;
  }

  /** The type byte of the V2 frames carrying this format ({@code docs/protocol.md} section 1.1). */
  public int frameType() {
    return frameType;
  }

  /** What values this format can carry. */
  public Carries carries() {
    return carries;
  }

  /** Whether a message header (a map of any values) may travel in this format. */
  public boolean mayCarryHeader() {
    return carries == Carries.ANY_VALUE;
  }

  /** Whether a list of records can travel in this format (every format but numeric-array ones). */
  public boolean carriesRecords() {
    return carries != Carries.NUMERIC_ARRAYS;
  }

  /** The name of the counter of body bytes in this format (DESIGN.md section 2): {@code bytes_<wire name>}. */
  public String metricName() {
    return "bytes_" + wireName;
  }

  /**
   * A new codec for this format.
   *
   * @param memoryLimitBytes the most off-heap memory the codec may hold at a time (Arrow's allocator)
   */
  Codec newCodec(long memoryLimitBytes) {
    return codecFactory.apply(memoryLimitBytes);
  }

  /** The format with this wire name, or {@code null} if {@code name} is not one. */
  public static ContentFormat ofWireName(String name) {
    for (ContentFormat f : values()) {
      if (f.wireName.equals(name)) {
        return f;
      }
    }
    return null;
  }

  /** Every format's wire name, in the order of the registry. */
  public static List<String> wireNames() {
    return WIRE_NAMES;
  }

  /** The wire names for a message: {@code "json, msgpack, arrow or numpy"}. */
  public static String wireNamesInProse() {
    int last = WIRE_NAMES.size() - 1;
    return last == 0
        ? WIRE_NAMES.get(0)
        : String.join(", ", WIRE_NAMES.subList(0, last)) + " or " + WIRE_NAMES.get(last);
  }
}
