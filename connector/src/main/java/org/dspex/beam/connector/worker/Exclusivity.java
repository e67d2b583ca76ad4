package org.dspex.beam.connector.worker;

/**
 * Whether a request shares a {@link WorkerPool}'s workers with the pool's other requests, or has the
 * pool to itself.
 *
 * <p>{@link #EXCLUSIVE} is for a request that may kill its worker: sent alone, a crash is its own
 * and not the collateral of another caller's request (the transforms send an element that was in a
 * crashed request before this way, so that only its own crash fails it).
 */
public enum Exclusivity {
  /** Sent at once, alongside the pool's other requests (the default). */
  SHARED,
  /**
   * Sent when nothing else of the pool is in flight; requests submitted after it wait until it
   * completes. Order is kept: a shared request submitted while an exclusive one waits waits too.
   */
  EXCLUSIVE
}
