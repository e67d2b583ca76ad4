package org.dspex.beam.connector.worker;

import java.util.ArrayDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The assignments of a {@link WorkerSupervisor} waiting for a live worker, in arrival order, each
 * failed when its wait is over. No thread waits: an assignment is given its worker, or its failure,
 * later on a callback thread.
 */
final class WaitingAssignments {
  /** One waiting assignment and the timer of its deadline. */
  private static final class Waiter {
    final WorkerSupervisor.Assignment assignment;
    ScheduledFuture<?> timer;

    Waiter(WorkerSupervisor.Assignment assignment) {
      this.assignment = assignment;
    }
  }

  private final ArrayDeque<Waiter> queue = new ArrayDeque<>();

  /** Queues {@code a}; after {@code waitNanos} without a worker it fails, naming the wait. */
  synchronized void add(WorkerSupervisor.Assignment a, long waitNanos) {
    Waiter w = new Waiter(a);
    queue.add(w);
    w.timer = WorkerThreads.SCHEDULER.schedule(() -> {
      boolean expired;
      synchronized (this) {
        expired = queue.remove(w);
      }
      if (expired) {
        WorkerThreads.CALLBACKS.execute(() -> a.failed(new WorkerCrashedException(
            "no live worker in the pool after waiting " + Durations.nanos(waitNanos) + " for restarts", null)));
      }
    }, waitNanos, TimeUnit.NANOSECONDS);
  }

  /** Gives the waiting assignments, oldest first, the members {@code next} supplies until it supplies null. */
  synchronized void assign(Supplier<WorkerSupervisor.Member> next) {
    while (!queue.isEmpty()) {
      WorkerSupervisor.Member m = next.get();
      if (m == null) {
        return;
      }
      Waiter w = queue.poll();
      w.timer.cancel(false);
      WorkerThreads.CALLBACKS.execute(() -> w.assignment.assigned(m));
    }
  }

  /** Fails every waiting assignment with {@code e}. */
  synchronized void failAll(Throwable e) {
    for (Waiter w = queue.poll(); w != null; w = queue.poll()) {
      w.timer.cancel(false);
      WorkerSupervisor.Assignment a = w.assignment;
      WorkerThreads.CALLBACKS.execute(() -> a.failed(e));
    }
  }
}
