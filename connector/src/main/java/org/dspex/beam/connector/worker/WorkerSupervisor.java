package org.dspex.beam.connector.worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.dspex.beam.connector.protocol.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the N workers of a {@link WorkerPool} alive: starts them, replaces dead, hung or recycled
 * ones after a backoff, trips the crash-loop breaker (deaths of started workers) or fails after
 * too many failed starts in a row, pings idle ones, stops an idle pool, and
 * hands each assignment the live worker with the fewest requests, or queues it (no thread waits)
 * until one is ready. Assignments are given and failed on callback threads when they had to wait.
 */
final class WorkerSupervisor {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

  private final WorkerConfig config;
  private final WorkerStats stats;
  private final RestartPolicy restarts;
  private final Slot[] slots;
  private final Object lock = new Object();
  private final AtomicInteger nextWorkerId = new AtomicInteger();
  private final CompletableFuture<Void> firstReady = new CompletableFuture<>();
  private final WaitingAssignments waiting = new WaitingAssignments();
  private final ScheduledFuture<?> maintenance;
  private volatile WorkerException fatal;
  private volatile boolean closed;
  private volatile boolean idle;
  private volatile long lastRequestNanos = System.nanoTime();
  private int rotate;

  /** One worker position: its current member and its crash streak. */
  private static final class Slot {
    final int index;
    Member current;
    boolean starting;
    int crashesInARow;

    Slot(int index) {
      this.index = index;
    }
  }

  /** What waits for a live worker: a pool's request, or its {@code setupResults()} call. */
  interface Assignment {
    /** {@code m} is live and counts this as assigned to it. */
    void assigned(Member m);

    /** No worker will be: the pool failed, was closed, or none came up in time. */
    void failed(Throwable e);
  }

  /** A worker as the pool sees it: the requests it handed it, and whether it is being retired. */
  static final class Member {
    final PythonWorker worker;
    final AtomicInteger assigned = new AtomicInteger();
    volatile boolean retiring;

    Member(PythonWorker worker) {
      this.worker = worker;
    }
  }

  /** Supervises the workers of {@code config}, counting into {@code stats}; starts them now. */
  WorkerSupervisor(WorkerConfig config, WorkerStats stats) {
    this.config = config;
    this.stats = stats;
    this.restarts = new RestartPolicy(config);
    this.slots = new Slot[config.workers()];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = new Slot(i);
    }
    long tick = Math.max(20, Math.min(config.pingInterval().toMillis(),
        config.idleShutdown().isZero() ? Long.MAX_VALUE : config.idleShutdown().toMillis()) / 2);
    this.maintenance = WorkerThreads.SCHEDULER.scheduleWithFixedDelay(this::maintain, tick, tick, TimeUnit.MILLISECONDS);
    startAll(false);
  }

  /** Waits until one worker is ready, or throws why none can be. */
  void awaitReady() throws WorkerException {
    try {
      firstReady.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WorkerCrashedException("interrupted while waiting for a worker to start", e);
    } catch (ExecutionException e) {
      throw (WorkerException) e.getCause();
    }
  }

  /** Why the pool stopped serving ({@link CrashLoopException}, {@link WorkerStartException}), or null. */
  WorkerException failure() {
    return fatal;
  }

  /** Process ids of the live workers (for tests and diagnostics). */
  List<Long> pids() {
    List<Long> pids = new ArrayList<>();
    synchronized (lock) {
      for (Slot s : slots) {
        if (s.current != null && s.current.worker.isRunning()) {
          pids.add(s.current.worker.pid());
        }
      }
    }
    return pids;
  }

  /** Whether {@link #close()} was called. */
  boolean isClosed() {
    return closed;
  }


  static IllegalStateException closedError() {
    return new IllegalStateException("the worker pool is closed");
  }

  /**
   * Gives {@code a} the least-loaded live worker (counted as assigned): now, or when one is ready
   * (a start or restart), or fails it when none can be within the start and restart times.
   */
  void whenLive(Assignment a) {
    lastRequestNanos = System.nanoTime();
    Member m;
    Throwable failure;
    synchronized (lock) {
      if (idle && !closed && fatal == null) {
        idle = false;
        startAll(false);
      }
      failure = fatal != null ? fatal : closed ? closedError() : null;
      m = failure == null ? leastLoaded() : null;
      if (failure == null && m == null) {
        waiting.add(a, config.startTimeout().toNanos() * 2 + config.restartBackoffMax().toNanos());
        return;
      }
    }
    if (m != null) {
      a.assigned(m);
    } else {
      a.failed(failure);
    }
  }

  /** The live worker with the fewest requests, now assigned one more; null if none. Holds the lock. */
  private Member leastLoaded() {
    Member best = null;
    int n = slots.length;
    for (int i = 0; i < n; i++) {
      Member m = slots[(rotate + i) % n].current;
      if (m != null && !m.retiring && m.worker.isRunning()
          && (best == null || m.assigned.get() < best.assigned.get())) {
        best = m;
      }
    }
    if (best != null) {
      rotate++;
      best.assigned.incrementAndGet();
    }
    return best;
  }

  /** A request assigned to {@code m} ended (answered or failed). */
  void done(Member m) {
    m.assigned.decrementAndGet();
    lastRequestNanos = System.nanoTime();
    long limit = config.recycleAfterRequests();
    if (limit > 0 && !m.retiring && m.worker.answered() >= limit) {
      retire(m);
    } else if (m.retiring && m.assigned.get() == 0) {
      stopGracefully(m);
    }
  }

  /** Recycling: no new requests for {@code m}; a replacement starts now; {@code m} stops when drained. */
  private void retire(Member m) {
    synchronized (lock) {
      if (m.retiring || closed) {
        return;
      }
      m.retiring = true;
      for (Slot s : slots) {
        if (s.current == m) {
          s.current = null;
          startSlot(s, true);
        }
      }
    }
    LOG.info("{} answered {} requests: recycling it", m.worker.name(), m.worker.answered());
    if (m.assigned.get() == 0) {
      stopGracefully(m);
    }
  }

  private void stopGracefully(Member m) {
    WorkerThreads.SUPERVISION.execute(m.worker::close);
  }

  private void startAll(boolean restart) {
    synchronized (lock) {
      for (Slot s : slots) {
        if (s.current == null && !s.starting) {
          startSlot(s, restart);
        }
      }
    }
  }

  /** Starts a worker for {@code s} on a supervision thread (the fork itself is on the launcher). */
  private void startSlot(Slot s, boolean restart) {
    synchronized (lock) {
      if (closed || fatal != null || s.starting) {
        return;
      }
      s.starting = true;
    }
    WorkerThreads.SUPERVISION.execute(() -> {
      long t0 = System.nanoTime();
      PythonWorker w;
      int id = nextWorkerId.incrementAndGet();
      try {
        w = PythonWorker.start(config, id, stats);
      } catch (WorkerStartException | RuntimeException | Error e) {
        synchronized (lock) {
          s.starting = false;
        }
        // Anything else than a WorkerStartException is this JVM's fault, not the worker's: were it
        // left to end this task, the slot would stay "starting" and every caller wait forever.
        WorkerStartException failure = e instanceof WorkerStartException ? (WorkerStartException) e
            : new WorkerStartException(WorkerStartException.Reason.CONNECTOR_FAILED,
                "worker " + id + " could not be started: this JVM failed on the connector's side: " + e, e);
        if (failure.isTransient()) {
          startFailed(s, failure);
        } else {
          fail(failure);
        }
        return;
      }
      Member m = new Member(w);
      synchronized (lock) {
        s.starting = false;
        if (closed || fatal != null) {
          WorkerThreads.SUPERVISION.execute(w::close);
          return;
        }
        s.current = m;
        s.crashesInARow = 0;
        restarts.started();
        waiting.assign(this::leastLoaded);
      }
      stats.started(System.nanoTime() - t0, restart);
      firstReady.complete(null);
      w.terminated().thenAccept(death -> terminated(s, m, death));
    });
  }

  private void terminated(Slot s, Member m, WorkerException death) {
    boolean current;
    synchronized (lock) {
      current = s.current == m;
      if (current) {
        s.current = null;
      }
    }
    if (death == null || closed) {
      return;
    }
    stats.crashed(death instanceof WorkerTimeoutException);
    if (current) {
      crashed(s, death);
    }
  }

  /** A started worker of {@code s} died: restart it after a backoff, unless that trips the breaker. */
  private void crashed(Slot s, WorkerException cause) {
    WorkerException tripped;
    synchronized (lock) {
      if (closed || fatal != null) {
        return;
      }
      tripped = restarts.crashed(cause, System.nanoTime());
    }
    failOrRestart(s, tripped);
  }

  /** A worker of {@code s} died or timed out before its setups were done: see {@link RestartPolicy}. */
  private void startFailed(Slot s, WorkerStartException cause) {
    WorkerException tripped;
    synchronized (lock) {
      if (closed || fatal != null) {
        return;
      }
      tripped = restarts.startFailed(cause);
    }
    failOrRestart(s, tripped);
  }

  private void failOrRestart(Slot s, WorkerException failure) {
    if (failure != null) {
      fail(failure);
    } else {
      restartLater(s);
    }
  }

  /** Starts a worker for {@code s} after the backoff for its crashes in a row. */
  private void restartLater(Slot s) {
    long delay;
    synchronized (lock) {
      s.crashesInARow++;
      delay = RestartBackoff.delayNanos(config.restartBackoffInitial(), config.restartBackoffMax(), s.crashesInARow);
    }
    LOG.info("restarting worker slot {} in {}", s.index, Durations.nanos(delay));
    WorkerThreads.SCHEDULER.schedule(() -> startSlot(s, true), delay, TimeUnit.NANOSECONDS);
  }

  /** Takes every live worker out of its slot; the caller holds the lock. */
  private List<Member> detachAll() {
    List<Member> members = new ArrayList<>();
    for (Slot s : slots) {
      if (s.current != null) {
        members.add(s.current);
        s.current = null;
      }
    }
    return members;
  }

  /** Stops serving for good: every waiting and later request fails with {@code e}. */
  private void fail(WorkerException e) {
    List<Member> members;
    synchronized (lock) {
      if (fatal != null) {
        return;
      }
      fatal = e;
      members = detachAll();
      waiting.failAll(e);
    }
    LOG.error("worker pool failed: {}", e.getMessage());
    firstReady.completeExceptionally(e);
    for (Member m : members) {
      stopGracefully(m);
    }
  }

  /** Health pings of idle workers, and idle shutdown. */
  private void maintain() {
    long now = System.nanoTime();
    List<Member> live = new ArrayList<>();
    synchronized (lock) {
      for (Slot s : slots) {
        if (s.current != null && s.current.worker.isRunning() && !s.current.retiring) {
          live.add(s.current);
        }
      }
    }
    boolean quiet = live.stream().allMatch(m -> m.assigned.get() == 0 && m.worker.load() == 0);
    Duration idleLimit = config.idleShutdown();
    if (!idleLimit.isZero() && quiet && !live.isEmpty() && now - lastRequestNanos > idleLimit.toNanos()) {
      shutDownIdle();
      return;
    }
    for (Member m : live) {
      if (m.worker.load() == 0 && now - m.worker.lastActivityNanos() > config.pingInterval().toNanos()) {
        // A ping unanswered within the start timeout gets the worker killed, hence restarted.
        stats.pinged();
        m.worker.submit(Request.of("ping"), config.startTimeout());
      }
    }
  }

  private void shutDownIdle() {
    List<Member> members = new ArrayList<>();
    synchronized (lock) {
      if (closed || fatal != null) {
        return;
      }
      for (Slot s : slots) {
        if (s.starting) {
          return;
        }
      }
      idle = true;
      for (Slot s : slots) {
        if (s.current != null) {
          members.add(s.current);
          s.current = null;
        }
      }
    }
    LOG.info("worker pool idle for {}: stopping its {} workers", Durations.words(config.idleShutdown()), members.size());
    for (Member m : members) {
      stopGracefully(m);
    }
  }

  /** Whether the pool has stopped serving (closed or failed). */
  boolean isDone() {
    return closed || fatal != null;
  }

  /**
   * Stops every worker gracefully (waiting for them) and fails the waiting assignments; false if it
   * was closed before.
   */
  boolean close() {
    List<Member> members;
    synchronized (lock) {
      if (closed) {
        return false;
      }
      closed = true;
      members = detachAll();
      waiting.failAll(closedError());
    }
    maintenance.cancel(false);
    firstReady.completeExceptionally(new WorkerCrashedException("the worker pool was closed", null));
    List<CompletableFuture<Void>> stops = new ArrayList<>();
    for (Member m : members) {
      stops.add(CompletableFuture.runAsync(m.worker::close, WorkerThreads.SUPERVISION));
    }
    CompletableFuture.allOf(stops.toArray(new CompletableFuture<?>[0])).join();
    return true;
  }
}
