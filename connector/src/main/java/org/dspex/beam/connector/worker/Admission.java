package org.dspex.beam.connector.worker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Admits a pool's requests in arrival order, shared ones together and an {@link
 * Exclusivity#EXCLUSIVE} one alone: it is admitted once every request before it is done, and the
 * ones after it wait until it is. Nothing waits on a thread: a request not admitted at once is
 * queued, and admitted by the {@link #exit} that makes room for it, on that caller's thread.
 */
final class Admission {
  /** A request waiting for its turn. */
  private record Waiting(boolean exclusive, Runnable admitted) {}

  private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
  private int shared;
  private boolean exclusive;

  /** Runs {@code admitted} when the request may be sent: now, or from a later {@link #exit}. */
  void enter(Exclusivity exclusivity, Runnable admitted) {
    boolean alone = exclusivity == Exclusivity.EXCLUSIVE;
    synchronized (this) {
      if (!queue.isEmpty() || exclusive || (alone && shared > 0)) {
        queue.add(new Waiting(alone, admitted));
        return;
      }
      take(alone);
    }
    admitted.run();
  }

  /** An admitted request is done (answered or failed): admits those it held back. */
  void exit(Exclusivity exclusivity) {
    List<Runnable> next = new ArrayList<>();
    synchronized (this) {
      if (exclusivity == Exclusivity.EXCLUSIVE) {
        exclusive = false;
      } else {
        shared--;
      }
      while (!queue.isEmpty() && !exclusive && !(queue.peek().exclusive() && shared > 0)) {
        Waiting w = queue.poll();
        take(w.exclusive());
        next.add(w.admitted());
      }
    }
    next.forEach(Runnable::run);
  }

  private void take(boolean alone) {
    if (alone) {
      exclusive = true;
    } else {
      shared++;
    }
  }
}
