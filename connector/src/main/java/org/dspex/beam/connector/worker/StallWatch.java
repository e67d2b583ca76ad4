package org.dspex.beam.connector.worker;

import java.time.Duration;

/**
 * Tells a stalled worker from a slow one by its liveness, not by how long its requests take: while
 * a worker has requests in flight and has sent nothing for a while, it is pinged (a worker answers
 * {@code ping} on its reader thread even while its handlers run, docs/protocol.md 9.3), and it is
 * stalled when nothing at all has come from it for the stall timeout after such a ping: stopped
 * (SIGSTOP), deadlocked, or its reader starved. A handler waiting seconds for an LM keeps its worker
 * answering, so it is never taken for a stall; the request timeout still bounds it.
 *
 * <p>The channel's watchdog asks {@link #tick} on every tick; not thread-safe beyond that one
 * caller.
 */
final class StallWatch {
  /** The longest a busy worker stays silent before it is pinged. */
  private static final long MAX_QUIET_NANOS = Duration.ofSeconds(1).toNanos();

  /** What the watchdog should do now. */
  enum Action {
    /** Nothing: idle, talking, or a ping is on its way. */
    NONE,
    /** Queue a ping. */
    PING,
    /** Kill the worker: it answered nothing for the stall timeout after a ping. */
    STALLED
  }

  private final long stallNanos;
  private final long quietNanos;
  /** Whether a ping went out that nothing came after yet, and when. */
  private boolean pinged;
  private long pingedAtNanos;

  /** A watch with {@code stallTimeout}; zero turns it off. */
  StallWatch(Duration stallTimeout) {
    this.stallNanos = stallTimeout.toNanos();
    this.quietNanos = Math.max(1, Math.min(MAX_QUIET_NANOS, stallNanos / 10));
  }

  /** Whether the watch is on. */
  boolean enabled() {
    return stallNanos > 0;
  }

  /** The stall timeout. */
  Duration timeout() {
    return Duration.ofNanos(stallNanos);
  }

  /**
   * What to do at {@code nowNanos}, given when something last came from the worker and whether it
   * has requests in flight (not counting this watch's pings).
   */
  Action tick(long nowNanos, long lastReadNanos, boolean busy) {
    if (!enabled() || !busy) {
      pinged = false;
      return Action.NONE;
    }
    if (pinged && lastReadNanos - pingedAtNanos >= 0) {
      pinged = false;
    }
    if (pinged) {
      return nowNanos - pingedAtNanos >= stallNanos ? Action.STALLED : Action.NONE;
    }
    if (nowNanos - lastReadNanos >= quietNanos) {
      pinged = true;
      pingedAtNanos = nowNanos;
      return Action.PING;
    }
    return Action.NONE;
  }
}
