package org.dspex.beam.connector.worker;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * A lock-free latency distribution in microseconds: count, sum, max and power-of-two buckets, enough
 * for Beam distribution metrics (count/sum/min/max) and rough percentiles.
 */
public final class LatencyRecorder {
  private final LongAdder count = new LongAdder();
  private final LongAdder sumMicros = new LongAdder();
  private final LongAccumulator maxMicros = new LongAccumulator(Math::max, 0);
  private final LongAccumulator minMicros = new LongAccumulator(Math::min, Long.MAX_VALUE);
  private final AtomicLongArray buckets = new AtomicLongArray(64);

  LatencyRecorder() {}

  void recordNanos(long nanos) {
    long micros = Math.max(0, nanos / 1000);
    count.increment();
    sumMicros.add(micros);
    maxMicros.accumulate(micros);
    minMicros.accumulate(micros);
    buckets.incrementAndGet(64 - Long.numberOfLeadingZeros(micros));
  }

  /** How many were recorded. */
  public long count() {
    return count.sum();
  }

  /** Their sum, in microseconds. */
  public long sumMicros() {
    return sumMicros.sum();
  }

  /** The largest, in microseconds (0 when none). */
  public long maxMicros() {
    return maxMicros.get();
  }

  /** The smallest, in microseconds (0 when none). */
  public long minMicros() {
    long m = minMicros.get();
    return m == Long.MAX_VALUE ? 0 : m;
  }

  /**
   * An upper bound for the {@code q} quantile (0 &lt; q &lt;= 1), within a factor of two: the top of
   * the power-of-two bucket it falls in.
   */
  public long quantileUpperBoundMicros(double q) {
    long total = count();
    if (total == 0) {
      return 0;
    }
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int b = 0; b < 64; b++) {
      seen += buckets.get(b);
      if (seen >= rank) {
        return b == 0 ? 0 : Math.min(maxMicros(), (1L << b) - 1);
      }
    }
    return maxMicros();
  }
}
