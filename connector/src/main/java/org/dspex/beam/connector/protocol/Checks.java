package org.dspex.beam.connector.protocol;

/** Argument checks with formatted messages, in the manner of Guava's {@code checkArgument}. */
final class Checks {
  private Checks() {}

  static void checkArgument(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }

  static <T> T checkNotNull(T value, String name) {
    if (value == null) {
      throw new NullPointerException(name + " must not be null");
    }
    return value;
  }
}
