package org.dspex.beam.connector.protocol;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The limits and {@code AUTO} thresholds of the protocol ({@code docs/protocol.md} sections 1.3, 4
 * and 5), immutable. Each {@code with*} method checks its argument at once and returns a copy, in
 * the manner of msgpack's {@code PackerConfig}:
 *
 * <pre>{@code
 * ProtocolSettings settings =
 *     ProtocolSettings.defaults().withArrowMinRecords(500).withRefMinBytes(16L << 20);
 * }</pre>
 *
 * <p>The client sends these settings in {@code hello} (see {@link #toHelloArgs()}) so that the worker
 * answers by the same rules.
 */
public final class ProtocolSettings implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Default {@code max_frame_bytes}: 256 MiB. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024;
  /** Default {@code max_ref_bytes}: 16 GiB. */
  public static final long DEFAULT_MAX_REF_BYTES = 16L * 1024 * 1024 * 1024;
  /** Default {@code json_max_records}: record lists up to this size go inline as JSON. */
  public static final int DEFAULT_JSON_MAX_RECORDS = 3;
  /** Default {@code arrow_min_records}: record lists of at least this size go as Arrow. */
  public static final int DEFAULT_ARROW_MIN_RECORDS = 10_000;
  /** Default {@code ref_min_bytes}: encoded bodies at least this large go as REF: 64 MiB. */
  public static final long DEFAULT_REF_MIN_BYTES = 64L * 1024 * 1024;

  /** The largest Java array, hence the largest frame payload a Java reader can hold. */
  public static final int MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

  private static final ProtocolSettings DEFAULTS =
      new ProtocolSettings(
          DEFAULT_MAX_FRAME_BYTES,
          DEFAULT_MAX_REF_BYTES,
          DEFAULT_JSON_MAX_RECORDS,
          DEFAULT_ARROW_MIN_RECORDS,
          DEFAULT_REF_MIN_BYTES);

  private final int maxFrameBytes;
  private final long maxRefBytes;
  private final int jsonMaxRecords;
  private final int arrowMinRecords;
  private final long refMinBytes;

  private ProtocolSettings(
      int maxFrameBytes, long maxRefBytes, int jsonMaxRecords, int arrowMinRecords, long refMinBytes) {
    this.maxFrameBytes = maxFrameBytes;
    this.maxRefBytes = maxRefBytes;
    this.jsonMaxRecords = jsonMaxRecords;
    this.arrowMinRecords = arrowMinRecords;
    this.refMinBytes = refMinBytes;
  }

  /** The settings of the specification. */
  public static ProtocolSettings defaults() {
    return DEFAULTS;
  }

  /** {@code max_frame_bytes}: the largest frame payload read or written. */
  public int maxFrameBytes() {
    return maxFrameBytes;
  }

  /** {@code max_ref_bytes}: the largest body accepted through a REF frame. */
  public long maxRefBytes() {
    return maxRefBytes;
  }

  /** {@code json_max_records}: lists (and maps) up to this size may go inline as JSON. */
  public int jsonMaxRecords() {
    return jsonMaxRecords;
  }

  /** {@code arrow_min_records}: record lists of at least this size go as Arrow when they can. */
  public int arrowMinRecords() {
    return arrowMinRecords;
  }

  /** {@code ref_min_bytes}: encoded bodies at least this large are spilled when a spill dir exists. */
  public long refMinBytes() {
    return refMinBytes;
  }

  /**
   * Returns a copy with {@code max_frame_bytes} set; default {@value #DEFAULT_MAX_FRAME_BYTES} (256
   * MiB). At most {@link #MAX_ARRAY_BYTES}, the largest array Java can allocate for a payload.
   */
  public ProtocolSettings withMaxFrameBytes(int bytes) {
    Checks.checkArgument(
        bytes > 0 && bytes <= MAX_ARRAY_BYTES,
        "max_frame_bytes must be in 1..%s, was %s",
        MAX_ARRAY_BYTES,
        bytes);
    return new ProtocolSettings(bytes, maxRefBytes, jsonMaxRecords, arrowMinRecords, refMinBytes);
  }

  /** Returns a copy with {@code max_ref_bytes} set; default {@value #DEFAULT_MAX_REF_BYTES} (16 GiB). */
  public ProtocolSettings withMaxRefBytes(long bytes) {
    Checks.checkArgument(bytes > 0, "max_ref_bytes must be positive, was %s", bytes);
    return new ProtocolSettings(maxFrameBytes, bytes, jsonMaxRecords, arrowMinRecords, refMinBytes);
  }

  /**
   * Returns a copy with {@code json_max_records} set; default {@value #DEFAULT_JSON_MAX_RECORDS}.
   * Zero sends nothing inline.
   */
  public ProtocolSettings withJsonMaxRecords(int records) {
    Checks.checkArgument(records >= 0, "json_max_records must be >= 0, was %s", records);
    return new ProtocolSettings(maxFrameBytes, maxRefBytes, records, arrowMinRecords, refMinBytes);
  }

  /** Returns a copy with {@code arrow_min_records} set; default {@value #DEFAULT_ARROW_MIN_RECORDS}. */
  public ProtocolSettings withArrowMinRecords(int records) {
    Checks.checkArgument(records > 0, "arrow_min_records must be positive, was %s", records);
    return new ProtocolSettings(maxFrameBytes, maxRefBytes, jsonMaxRecords, records, refMinBytes);
  }

  /** Returns a copy with {@code ref_min_bytes} set; default {@value #DEFAULT_REF_MIN_BYTES} (64 MiB). */
  public ProtocolSettings withRefMinBytes(long bytes) {
    Checks.checkArgument(bytes > 0, "ref_min_bytes must be positive, was %s", bytes);
    return new ProtocolSettings(maxFrameBytes, maxRefBytes, jsonMaxRecords, arrowMinRecords, bytes);
  }

  /**
   * The settings as {@code hello} arguments, by their wire names: {@code max_frame_bytes}, {@code
   * max_ref_bytes}, {@code json_max_records}, {@code arrow_min_records}, {@code ref_min_bytes}.
   */
  public Map<String, Object> toHelloArgs() {
    Map<String, Object> args = new LinkedHashMap<>();
    args.put("max_frame_bytes", (long) maxFrameBytes);
    args.put("max_ref_bytes", maxRefBytes);
    args.put("json_max_records", (long) jsonMaxRecords);
    args.put("arrow_min_records", (long) arrowMinRecords);
    args.put("ref_min_bytes", refMinBytes);
    return args;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ProtocolSettings)) {
      return false;
    }
    ProtocolSettings s = (ProtocolSettings) o;
    return maxFrameBytes == s.maxFrameBytes
        && maxRefBytes == s.maxRefBytes
        && jsonMaxRecords == s.jsonMaxRecords
        && arrowMinRecords == s.arrowMinRecords
        && refMinBytes == s.refMinBytes;
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxFrameBytes, maxRefBytes, jsonMaxRecords, arrowMinRecords, refMinBytes);
  }

  @Override
  public String toString() {
    return "ProtocolSettings{max_frame_bytes="
        + maxFrameBytes
        + ", max_ref_bytes="
        + maxRefBytes
        + ", json_max_records="
        + jsonMaxRecords
        + ", arrow_min_records="
        + arrowMinRecords
        + ", ref_min_bytes="
        + refMinBytes
        + "}";
  }
}
