package org.dspex.beam.connector.worker;

import java.util.HashMap;
import java.util.Map;

/**
 * The JVM-wide registry of {@link WorkerPool}s, one per {@link WorkerConfig}, reference counted:
 * every DoFn instance in a JVM (Beam runs many per worker JVM) calls {@link #acquire} in
 * {@code @Setup} and {@link #release} in {@code @Teardown}, and they all share the same workers. The
 * last release stops them. A pool that failed ({@link CrashLoopException}, {@link
 * WorkerStartException}) is replaced by a fresh one at the next acquire, so a retried bundle tries
 * again.
 */
public final class WorkerPools {
  private static final Map<WorkerConfig, Entry> POOLS = new HashMap<>();

  private static final class Entry {
    final WorkerPool pool;
    int refs;

    Entry(WorkerPool pool) {
      this.pool = pool;
    }
  }

  private WorkerPools() {}

  /**
   * The pool for {@code config}, started if needed; waits until one of its workers is ready.
   *
   * @throws WorkerStartException when workers cannot start with this configuration (the message
   *     says what to fix), or failed to start {@link WorkerConfig#withMaxStartFailures} times in a
   *     row
   */
  public static WorkerPool acquire(WorkerConfig config) throws WorkerException {
    WorkerPool pool;
    synchronized (POOLS) {
      Entry e = POOLS.get(config);
      if (e == null || e.pool.isDone()) {
        e = new Entry(WorkerPool.starting(config));
        POOLS.put(config, e);
      }
      e.refs++;
      pool = e.pool;
    }
    try {
      pool.awaitReady();
    } catch (WorkerException e) {
      release(pool);
      throw e;
    }
    return pool;
  }

  /** Gives back a pool from {@link #acquire}; the last release closes it (blocking until stopped). */
  public static void release(WorkerPool pool) {
    boolean last = false;
    synchronized (POOLS) {
      Entry e = POOLS.get(pool.config());
      if (e != null && e.pool == pool) {
        e.refs--;
        if (e.refs <= 0) {
          POOLS.remove(pool.config());
          last = true;
        }
      } else {
        // Replaced after it failed; its holders release it one by one.
        last = true;
      }
    }
    if (last) {
      pool.close();
    }
  }

  /** Pools currently registered (for tests and diagnostics). */
  static int size() {
    synchronized (POOLS) {
      return POOLS.size();
    }
  }
}
