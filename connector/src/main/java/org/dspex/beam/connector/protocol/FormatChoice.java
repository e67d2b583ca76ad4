package org.dspex.beam.connector.protocol;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;

/**
 * How one body is to travel ({@code docs/protocol.md} section 5): {@link #AUTO} (the default: the
 * content format and the placement chosen from the body's shape and size), a content format forced
 * by the caller ({@link #forced}), or {@link #REF} (the content format {@code AUTO} would pick,
 * always spilled to a file). The choice is the sender's; the wire only ever names content formats.
 *
 * <pre>{@code
 * Request.of("embed").withBody("texts", texts);                                  // AUTO
 * Request.of("run").withBody("vectors", matrix, FormatChoice.forced(ContentFormat.NUMPY));
 * Request.of("run").withBody("table", records, FormatChoice.REF);
 * }</pre>
 *
 * <p>The wire names ({@code auto}, then each content format's, then {@code ref}) are those of
 * settings and the command line. One instance per choice, so choices compare with {@code ==}, also
 * after deserialization.
 */
public final class FormatChoice implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Decide from the body's shape and size (section 5); the default. */
  public static final FormatChoice AUTO = new FormatChoice("auto", null);
  /** The content format {@code AUTO} would pick, always spilled to a file and sent as a REF frame. */
  public static final FormatChoice REF = new FormatChoice("ref", null);

  private static final Map<ContentFormat, FormatChoice> FORCED = new EnumMap<>(ContentFormat.class);
  private static final List<FormatChoice> ALL;

  static {
    List<FormatChoice> all = new ArrayList<>();
    all.add(AUTO);
    for (ContentFormat f : ContentFormat.values()) {
      FormatChoice c = new FormatChoice(f.wireName(), f);
      FORCED.put(f, c);
      all.add(c);
    }
    all.add(REF);
    ALL = Collections.unmodifiableList(all);
  }

  private final String wireName;
  private final transient ContentFormat forced;

  private FormatChoice(String wireName, ContentFormat forced) {
    this.wireName = wireName;
    this.forced = forced;
  }

  /** The choice that forces {@code format}, whatever the body's size. */
  public static FormatChoice forced(ContentFormat format) {
    return FORCED.get(Checks.checkNotNull(format, "format"));
  }

  /**
   * The choice with this wire name: {@code auto}, a content format's name, or {@code ref}.
   *
   * @throws IllegalArgumentException for an unknown name, listing the known ones
   */
  public static FormatChoice fromWireName(String name) {
    for (FormatChoice c : ALL) {
      if (c.wireName.equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException(
        "unknown format '" + name + "'; known: " + String.join(", ", wireNames()));
  }

  /** Every choice: {@code AUTO}, each content format forced (registry order), {@code REF}. */
  public static List<FormatChoice> values() {
    return ALL;
  }

  /** The wire names of {@link #values()}: {@code auto, json, msgpack, arrow, numpy, ref}. */
  public static List<String> wireNames() {
    List<String> names = new ArrayList<>();
    for (FormatChoice c : ALL) {
      names.add(c.wireName);
    }
    return names;
  }

  /** The name in settings and on the command line, e.g. {@code "auto"} or {@code "msgpack"}. */
  public String wireName() {
    return wireName;
  }

  /** Whether this is {@link #AUTO}. */
  public boolean isAuto() {
    return this == AUTO;
  }

  /** Whether this is {@link #REF}. */
  public boolean isRef() {
    return this == REF;
  }

  /** The content format this choice forces, or {@code null} for {@link #AUTO} and {@link #REF}. */
  public ContentFormat forcedFormat() {
    return forced;
  }

  private Object readResolve() {
    return fromWireName(wireName);
  }

  @Override
  public String toString() {
    return wireName;
  }
}
