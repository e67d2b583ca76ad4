package org.dspex.beam.connector.protocol;

import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ArrowCodec;
import org.dspex.beam.connector.codec.ArrowTable;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.JsonCodec;
import org.dspex.beam.connector.codec.NumpyCodec;

/**
 * Chooses how each body travels ({@code docs/protocol.md} section 5), in two steps: the content
 * format from the body's shape ({@link #contentFormat(Object, FormatChoice)}), then, once it is encoded
 * and its size known, where it goes: inline, as a body frame, or as a REF ({@link #placement}).
 *
 * <p>Under {@code AUTO}:
 *
 * <ol>
 *   <li>numeric arrays ({@code float[][]}, {@code float[]}, {@code double[][]}, {@code double[]},
 *       {@code long[]}, {@code int[]}, {@link org.dspex.beam.connector.codec.NdArray}) go as NUMPY;
 *   <li>a list of records goes as ARROW with at least {@code arrow_min_records} records whose
 *       columns have Arrow types; inline as JSON with at most {@code json_max_records} records and
 *       no NaN, infinity or bytes; else as MSGPACK (an {@link ArrowTable} goes as ARROW);
 *   <li>anything else goes inline as JSON when small (a list or map of at most {@code
 *       json_max_records} entries, or a scalar) and JSON-safe, else as MSGPACK; a list of at least
 *       {@code arrow_min_records} strings (nulls allowed) goes as ARROW, one column named after the
 *       body;
 *   <li>an encoded body of at least {@code ref_min_bytes}, or above {@code max_frame_bytes}, is
 *       spilled to a REF when the peer can take one; above {@code max_frame_bytes} without a spill
 *       directory it is {@link FrameTooLongException}.
 * </ol>
 *
 * <p>A forced content format is kept whatever the size: above {@code max_frame_bytes} it is an
 * error naming the setting, never a silent change of format. {@code REF} keeps the content format
 * {@code AUTO} would choose and always spills. Immutable and thread-safe.
 */
public final class FormatChooser {
  /** Where an encoded body goes. */
  public enum Placement {
    /** Inline in the header's {@code args} (or {@code result}); JSON only. */
    INLINE,
    /** A body frame of the content format. */
    FRAME,
    /** A file in the spill directory, announced by a REF frame. */
    REF
  }

  private final ProtocolSettings settings;

  /** A chooser applying {@code settings}' thresholds. */
  public FormatChooser(ProtocolSettings settings) {
    this.settings = Checks.checkNotNull(settings, "settings");
  }

  /** The settings in use. */
  public ProtocolSettings settings() {
    return settings;
  }

  /**
   * The content format of a body: the requested one when it is a content format, else (for {@code
   * AUTO} and {@code REF}) the one rules 1 to 3 choose.
   */
  public ContentFormat contentFormat(Object body, FormatChoice requested) {
    ContentFormat forced = requested.forcedFormat();
    return forced != null ? forced : autoContentFormat(body);
  }

  /** Rules 1 to 3 of section 5. */
  public ContentFormat autoContentFormat(Object body) {
    if (NumpyCodec.isArray(body)) {
      return ContentFormat.NUMPY;
    }
    if (body instanceof ArrowTable) {
      return ContentFormat.ARROW;
    }
    if (body instanceof List) {
      List<?> list = (List<?>) body;
      if (!list.isEmpty() && isRecords(list)) {
        // Arrow is tried first, as the Python side does, so that the two agree even when the
        // thresholds overlap.
        if (list.size() >= settings.arrowMinRecords() && ArrowCodec.canEncode(list)) {
          return ContentFormat.ARROW;
        }
        return list.size() <= settings.jsonMaxRecords() && JsonCodec.canEncode(list)
            ? ContentFormat.JSON
            : ContentFormat.MSGPACK;
      }
      if (list.size() >= settings.arrowMinRecords() && isStrings(list)) {
        return ContentFormat.ARROW;
      }
      return list.size() <= settings.jsonMaxRecords() && JsonCodec.canEncode(list)
          ? ContentFormat.JSON
          : ContentFormat.MSGPACK;
    }
    if (body instanceof Map) {
      return ((Map<?, ?>) body).size() <= settings.jsonMaxRecords() && JsonCodec.canEncode(body)
          ? ContentFormat.JSON
          : ContentFormat.MSGPACK;
    }
    return JsonCodec.canEncode(body) ? ContentFormat.JSON : ContentFormat.MSGPACK;
  }

  /**
   * Where a body of {@code encodedBytes} in {@code content} format goes, given what was requested
   * and whether the peer can take a REF.
   *
   * @throws FrameTooLongException when a forced inline format, or any body without a spill
   *     directory, is above {@code max_frame_bytes}, or a REF body above {@code max_ref_bytes}
   * @throws IllegalStateException when {@code REF} is forced but the peer has no spill directory
   */
  public Placement placement(
      String bodyName, FormatChoice requested, ContentFormat content, long encodedBytes, boolean canSpill)
      throws FrameTooLongException {
    Placement placement = place(bodyName, requested, content, encodedBytes, canSpill);
    if (placement == Placement.REF && encodedBytes > settings.maxRefBytes()) {
      throw new FrameTooLongException(
          String.format(
              "body '%s' is %d bytes as %s, above max_ref_bytes %d",
              bodyName, encodedBytes, content.wireName(), settings.maxRefBytes()));
    }
    return placement;
  }

  private Placement place(
      String bodyName, FormatChoice requested, ContentFormat content, long encodedBytes, boolean canSpill)
      throws FrameTooLongException {
    long max = settings.maxFrameBytes();
    if (requested.isRef()) {
      if (!canSpill) {
        throw new IllegalStateException(
            "body '" + bodyName + "' is forced to ref, but the peer has no spill directory");
      }
      return Placement.REF;
    }
    if (requested.isAuto()) {
      if ((encodedBytes >= settings.refMinBytes() || encodedBytes > max) && canSpill) {
        return Placement.REF;
      }
      if (encodedBytes > max) {
        throw new FrameTooLongException(
            String.format(
                "body '%s' is %d bytes as %s, above max_frame_bytes %d, and the peer has no spill"
                    + " directory for a REF",
                bodyName, encodedBytes, content.wireName(), max));
      }
      return unspilled(content);
    }
    if (encodedBytes > max) {
      throw new FrameTooLongException(
          String.format(
              "body '%s' forced to %s is %d bytes, above max_frame_bytes %d; send it with"
                  + " format AUTO or ref",
              bodyName, requested.wireName(), encodedBytes, max));
    }
    return unspilled(content);
  }

  /**
   * Where a body goes when it is not spilled: a JSON body inline in the header (which is JSON
   * itself, or MessagePack, which carries any JSON value), every other format in its own frame.
   */
  static Placement unspilled(ContentFormat content) {
    return content == ContentFormat.JSON ? Placement.INLINE : Placement.FRAME;
  }

  private static boolean isRecords(List<?> list) {
    for (Object o : list) {
      if (!(o instanceof Map)) {
        return false;
      }
    }
    return true;
  }

  /** Strings, possibly with nulls, but at least one string: a {@code utf8} column. */
  private static boolean isStrings(List<?> list) {
    boolean any = false;
    for (Object o : list) {
      if (o instanceof String) {
        any = true;
      } else if (o != null) {
        return false;
      }
    }
    return any;
  }
}
