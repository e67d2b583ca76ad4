package org.dspex.beam.connector.worker;

/**
 * When a pool stops restarting its workers, counted two ways because workers fail two ways:
 *
 * <ul>
 *   <li>Started workers that die (a poison element, a leak) feed the crash-loop breaker ({@link
 *       WorkerConfig#withCrashLoop}): so many deaths within a window. Bisecting a batch down to
 *       its poison element kills workers on purpose, so the transforms size it for that.
 *   <li>Starts that fail (the process died or timed out before its setups were done) count in a
 *       row ({@link WorkerConfig#withMaxStartFailures}), reset by any worker that comes up: the
 *       restart backoff doubles, so a worker that can never load its model would crash too rarely
 *       for any window and be restarted forever.
 * </ul>
 *
 * <p>Not thread-safe: the supervisor calls it under its lock.
 */
final class RestartPolicy {
  private final WorkerConfig config;
  private final CrashLoopBreaker breaker;
  private int startFailuresInARow;

  RestartPolicy(WorkerConfig config) {
    this.config = config;
    this.breaker = new CrashLoopBreaker(config.crashLoopCrashes(), config.crashLoopWindow());
  }

  /** A worker completed its setups. */
  void started() {
    startFailuresInARow = 0;
  }

  /** A started worker died of {@code cause}: the pool's failure if that trips the breaker, else null. */
  CrashLoopException crashed(WorkerException cause, long nowNanos) {
    if (!breaker.record(nowNanos)) {
      return null;
    }
    return new CrashLoopException("workers died " + config.crashLoopCrashes() + " times within "
        + Durations.words(config.crashLoopWindow()) + " (WorkerConfig.withCrashLoop): the pool"
        + " stopped restarting them; the last one: " + cause.getMessage(), cause);
  }

  /**
   * A start failed with {@code cause} (a transient reason): the pool's failure if that makes
   * {@link WorkerConfig#withMaxStartFailures} in a row, else null.
   */
  WorkerStartException startFailed(WorkerStartException cause) {
    startFailuresInARow++;
    if (startFailuresInARow < config.maxStartFailures()) {
      return null;
    }
    String starts = startFailuresInARow == 1 ? "1 worker start" : startFailuresInARow + " worker starts in a row";
    return new WorkerStartException(cause.reason(), starts + " failed (WorkerConfig.withMaxStartFailures); the last"
        + " one died during start/setup: " + cause.getMessage(), cause);
  }
}
