package org.dspex.beam.transforms.batching;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The token budget and the LM call rate of one transform application, shared by every DoFn
 * instance in the JVM (keyed by an id fixed when the pipeline was built), so that N threads of one
 * worker JVM together stay under the limits. On a cluster each JVM has its own: divide the limits by
 * the number of worker JVMs.
 *
 * <p>The rate is enforced on the Java side, by admitting elements into requests: one element sent
 * counts as one LM call (true for {@code dspy.Predict}; a program that calls its LM several times
 * per element, or the LM client's own retries, is not counted). Simpler and exact for admission,
 * which is what a quota needs; the worker would need a shared clock across workers to do the same.
 * The budget is checked before each request: requests in flight when it runs out still finish, so
 * it can be overspent by at most one batch per DoFn instance.
 */
public final class SharedCostControl implements BatchExecutor.CostControl {
  private static final Map<String, SharedCostControl> SHARED = new HashMap<>();

  private final long tokenBudget;
  private final double callsPerSecond;
  private final AtomicLong spent = new AtomicLong();
  private long nextFreeNanos = System.nanoTime();

  private SharedCostControl(long tokenBudget, double callsPerSecond) {
    this.tokenBudget = tokenBudget;
    this.callsPerSecond = callsPerSecond;
  }

  /**
   * The JVM's instance for {@code key}; {@code tokenBudget} 0 means no budget, {@code
   * callsPerSecond} 0 no rate limit.
   */
  public static BatchExecutor.CostControl forKey(String key, long tokenBudget, double callsPerSecond) {
    if (tokenBudget <= 0 && callsPerSecond <= 0) {
      return NONE;
    }
    synchronized (SHARED) {
      return SHARED.computeIfAbsent(key, k -> new SharedCostControl(tokenBudget, callsPerSecond));
    }
  }

  @Override
  public boolean exhausted() {
    return tokenBudget > 0 && spent.get() >= tokenBudget;
  }

  @Override
  public void spend(long tokens) {
    spent.addAndGet(tokens);
  }

  /** Tokens spent so far. */
  public long spent() {
    return spent.get();
  }

  @Override
  public synchronized long reserve(int n) {
    if (callsPerSecond <= 0) {
      return 0;
    }
    long now = System.nanoTime();
    // No credit for idle time beyond one second, so a burst after a pause stays bounded.
    long start = Math.max(nextFreeNanos, now - TimeUnit.SECONDS.toNanos(1));
    nextFreeNanos = start + (long) (n * 1e9 / callsPerSecond);
    return Math.max(0, start - now);
  }
}
