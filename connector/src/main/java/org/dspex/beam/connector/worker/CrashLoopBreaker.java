package org.dspex.beam.connector.worker;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Counts worker crashes in a sliding window and trips at the K-th within it, so that a pool whose
 * workers cannot stay up stops instead of restarting them forever.
 */
final class CrashLoopBreaker {
  private final int crashes;
  private final long windowNanos;
  private final ArrayDeque<Long> times = new ArrayDeque<>();

  CrashLoopBreaker(int crashes, Duration window) {
    this.crashes = crashes;
    this.windowNanos = window.toNanos();
  }

  /** Records a crash at {@code nowNanos}; true when that makes {@code crashes} within the window. */
  synchronized boolean record(long nowNanos) {
    times.addLast(nowNanos);
    while (!times.isEmpty() && nowNanos - times.peekFirst() > windowNanos) {
      times.removeFirst();
    }
    return times.size() >= crashes;
  }
}
