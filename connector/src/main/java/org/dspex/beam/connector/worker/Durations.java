package org.dspex.beam.connector.worker;

import java.time.Duration;
import java.util.Locale;

/** Durations in messages: {@code 2.3 s}, {@code 150 ms}. */
final class Durations {
  private Durations() {}

  static String words(Duration d) {
    return nanos(d.toNanos());
  }

  static String nanos(long nanos) {
    if (nanos < 1_000_000_000L) {
      return (nanos / 1_000_000) + " ms";
    }
    return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
  }
}
