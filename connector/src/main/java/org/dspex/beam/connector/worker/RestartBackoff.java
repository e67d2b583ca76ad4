package org.dspex.beam.connector.worker;

import java.time.Duration;

/** Restart delays: the initial delay doubled per crash in a row, capped. */
final class RestartBackoff {
  private RestartBackoff() {}

  static long delayNanos(Duration initial, Duration max, int crashesInARow) {
    long d = initial.toNanos();
    for (int i = 1; i < crashesInARow && d < max.toNanos(); i++) {
      d *= 2;
    }
    return Math.min(d, max.toNanos());
  }
}
