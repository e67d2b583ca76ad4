package org.dspex.beam.connector.protocol;

/**
 * The framing and feature set of a connection ({@code docs/protocol.md} sections 1 and 7). Every
 * connection starts on {@link #V1} for the {@code hello} exchange and moves to {@link #V2} only when
 * the worker answers {@code result.protocol == "v2"}.
 */
public enum ProtocolVersion {
  /** The original DSPex bridge: {@code [u32 length][JSON]}, JSON only, bodies inline. */
  V1("v1"),
  /** {@code [u32 length][u8 type][payload]}: typed frames, body frames, REF and streams. */
  V2("v2");

  private final String wireName;

  ProtocolVersion(String wireName) {
    this.wireName = wireName;
  }

  /** The name used in {@code hello}: {@code "v1"} or {@code "v2"}. */
  public String wireName() {
    return wireName;
  }

  /** The length of a frame prefix in this framing. */
  public int prefixBytes() {
    return this == V1 ? 4 : 5;
  }
}
