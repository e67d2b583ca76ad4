package org.dspex.beam.connector.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The requests of one worker that are queued or written and not yet answered, with the counts a
 * pool balances on. A written request is kept under the id its connection gave it. One rule settles
 * every race between an answer, the writer and the death handler: whoever removes a request
 * completes or fails it.
 */
final class PendingRequests {
  private final Map<Long, PendingRequest> written = new ConcurrentHashMap<>();
  private final AtomicInteger load = new AtomicInteger();
  private final AtomicLong answered = new AtomicLong();

  /** A request was queued: one more in flight. */
  void queued() {
    load.incrementAndGet();
  }

  /** A queued request was given up before it was written (its taker fails it). */
  void dropped() {
    load.decrementAndGet();
  }

  /** {@code p} is about to be written as request {@code id}. */
  void written(long id, PendingRequest p) {
    p.id = id;
    written.put(id, p);
  }

  /** The written request {@code id}, still pending, or null. */
  PendingRequest get(long id) {
    return written.get(id);
  }

  /** Takes request {@code id}, now answered (counted so); null if it is not pending. */
  PendingRequest answered(long id) {
    PendingRequest p = written.remove(id);
    if (p != null) {
      load.decrementAndGet();
      answered.incrementAndGet();
    }
    return p;
  }

  /** Fails {@code p} with {@code e}, unless it was written and someone else took it first. */
  void failUnlessTaken(PendingRequest p, Exception e) {
    if (p.id < 0 || written.remove(p.id) != null) {
      load.decrementAndGet();
      p.fail(e);
    }
  }

  /** Takes every written request, for the death handler to fail. */
  List<PendingRequest> takeAll() {
    List<PendingRequest> all = new ArrayList<>();
    for (Long id : new ArrayList<>(written.keySet())) {
      PendingRequest p = written.remove(id);
      if (p != null) {
        load.decrementAndGet();
        all.add(p);
      }
    }
    return all;
  }

  /** A written request past its deadline at {@code nowNanos}, or null. */
  PendingRequest overdue(long nowNanos) {
    for (PendingRequest p : written.values()) {
      if (nowNanos - p.deadlineNanos > 0) {
        return p;
      }
    }
    return null;
  }

  /** Requests queued or in flight. */
  int load() {
    return load.get();
  }

  /** Requests answered, successfully or not. */
  long answeredCount() {
    return answered.get();
  }
}
