package org.dspex.beam.connector.protocol;

/**
 * A body to send, with how it is to travel ({@link FormatChoice#AUTO} unless forced).
 *
 * @param name unique in its message, and not an {@code args}/{@code result} key
 * @param value the value: value-model data, a numeric array, or an {@link
 *     org.dspex.beam.connector.codec.NdArray}
 * @param format {@code AUTO}, a forced content format, or {@code REF}
 */
public record OutgoingBody(String name, Object value, FormatChoice format) {
  /** Checks the name and format. */
  public OutgoingBody {
    Checks.checkArgument(name != null && !name.isEmpty(), "body name must not be empty");
    Checks.checkNotNull(format, "format");
  }

  /** A body sent by {@code AUTO}. */
  public static OutgoingBody auto(String name, Object value) {
    return new OutgoingBody(name, value, FormatChoice.AUTO);
  }
}
