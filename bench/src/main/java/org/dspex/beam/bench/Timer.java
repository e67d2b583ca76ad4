package org.dspex.beam.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Median wall time of a repeated operation, after a JIT warm-up. Never used by tests. */
final class Timer {
  /** How long to warm up and then to measure; each phase runs at least MIN_REPS times. */
  static final long WARMUP_NANOS = 500_000_000L;
  static final long BUDGET_NANOS = 1_000_000_000L;
  static final int MIN_REPS = 5;
  static final int MAX_REPS = 200;
  /** Reps longer than this are followed by a full collection outside the timed region. */
  static final double GC_BETWEEN_MILLIS = 5.0;

  /** An operation whose result is kept (so the JIT cannot drop it). */
  interface Operation<T> {
    T run() throws Exception;
  }

  /** The median of one operation, in milliseconds, and its last result. */
  record Measured<T>(double medianMillis, T value) {}

  private Timer() {}

  static <T> Measured<T> median(Operation<T> operation) throws Exception {
    T value = null;
    long warmStart = System.nanoTime();
    for (int i = 0; i < MIN_REPS || System.nanoTime() - warmStart < WARMUP_NANOS; i++) {
      value = operation.run();
      if (i >= MAX_REPS) {
        break;
      }
    }
    List<Double> times = new ArrayList<>();
    long start = System.nanoTime();
    while (times.size() < MIN_REPS
        || (times.size() < MAX_REPS && System.nanoTime() - start < BUDGET_NANOS)) {
      if (!times.isEmpty() && times.get(times.size() - 1) > GC_BETWEEN_MILLIS) {
        // Large operations leave tens of MB of garbage: collect it outside the timed region so
        // one rep does not pay for the previous one (it still pays for its own allocations).
        value = null;
        System.gc();
      }
      long t0 = System.nanoTime();
      value = operation.run();
      times.add((System.nanoTime() - t0) / 1e6);
    }
    Collections.sort(times);
    int mid = times.size() / 2;
    double median =
        times.size() % 2 == 1 ? times.get(mid) : (times.get(mid - 1) + times.get(mid)) / 2;
    return new Measured<>(median, value);
  }
}
