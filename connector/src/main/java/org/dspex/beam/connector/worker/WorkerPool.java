package org.dspex.beam.connector.worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N {@link PythonWorker}s of one {@link WorkerConfig}, kept alive: each request goes to the live
 * worker with the fewest requests in flight (several may be in flight on one worker), idle workers
 * are pinged, dead or hung ones are replaced after an exponential backoff, and a crash loop stops
 * the pool with a {@link CrashLoopException} instead of restarting forever.
 *
 * <p>In a Beam pipeline, every DoFn instance in a JVM shares one pool per configuration through
 * {@link WorkerPools}:
 *
 * <pre>{@code
 * @Setup
 * public void setup() throws WorkerException {
 *   pool = WorkerPools.acquire(config);            // starts the workers, or shares running ones
 * }
 *
 * @ProcessElement ...
 *   Message m = pool.call(Request.of("embed").withBody("inputs", batch));   // or submit(): a future
 *
 *   // Streams: keep each chunk's results, so a crash costs only the indexes not yet reported.
 *   pool.submitStream(Request.of("predict").withBody("inputs", batch), event -> {
 *     if (event instanceof StreamEvent.Chunk) { keep((StreamEvent.Chunk) event); }
 *   }).get();
 *
 * @Teardown
 * public void teardown() {
 *   WorkerPools.release(pool);                     // the last release stops the workers
 * }
 * }</pre>
 *
 * <h3>Failures</h3>
 *
 * <p>A request fails with a {@link WorkerException}: see {@link WorkerException#isRetryable()}. The
 * pool sends each request once and never re-sends it: the caller knows what it still needs (which
 * indexes of a stream, whether a batch is worth splitting), so retries are the caller's (in the
 * transforms, {@code BatchExecutor}). A start
 * failure that a restart cannot fix (no interpreter, missing packages, version mismatch) fails the
 * pool at once with its {@link WorkerStartException}; a worker that dies while starting counts as a
 * crash.
 *
 * <h3>Lifecycle</h3>
 *
 * <p>With {@link WorkerConfig#withRecycleAfterRequests} a worker that answered that many requests
 * gets no new ones, finishes those in flight, and is replaced. With {@link
 * WorkerConfig#withIdleShutdown} the workers of an idle pool are stopped and started again by the
 * next request. {@link #close()} stops every worker; a JVM shutdown hook ends any left.
 */
public final class WorkerPool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

  private final WorkerConfig config;
  private final WorkerStats stats = new WorkerStats();
  private final CrashLoopBreaker breaker;
  private final Slot[] slots;
  private final Object lock = new Object();
  private final AtomicInteger nextWorkerId = new AtomicInteger();
  private final CompletableFuture<Void> firstReady = new CompletableFuture<>();
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

  /** A worker as the pool sees it: the requests it handed it, and whether it is being retired. */
  private static final class Member {
    final PythonWorker worker;
    final AtomicInteger assigned = new AtomicInteger();
    volatile boolean retiring;

    Member(PythonWorker worker) {
      this.worker = worker;
    }
  }

  private WorkerPool(WorkerConfig config) {
    this.config = config;
    this.breaker = new CrashLoopBreaker(config.crashLoopCrashes(), config.crashLoopWindow());
    this.slots = new Slot[config.workers()];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = new Slot(i);
    }
    long tick = Math.max(20, Math.min(config.pingInterval().toMillis(),
        config.idleShutdown().isZero() ? Long.MAX_VALUE : config.idleShutdown().toMillis()) / 2);
    this.maintenance = WorkerThreads.SCHEDULER.scheduleWithFixedDelay(this::maintain, tick, tick, TimeUnit.MILLISECONDS);
  }

  /**
   * Starts a pool of its own (not shared through {@link WorkerPools}) and waits until a worker is
   * ready.
   *
   * @throws WorkerStartException when workers cannot start with this configuration
   * @throws CrashLoopException when they keep dying while starting
   */
  public static WorkerPool create(WorkerConfig config) throws WorkerException {
    WorkerPool pool = new WorkerPool(config);
    pool.startAll(false);
    try {
      pool.awaitReady();
    } catch (WorkerException e) {
      pool.close();
      throw e;
    }
    return pool;
  }

  /** A pool whose workers are starting; {@link #awaitReady()} before use. */
  static WorkerPool starting(WorkerConfig config) {
    WorkerPool pool = new WorkerPool(config);
    pool.startAll(false);
    return pool;
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

  /** The configuration. */
  public WorkerConfig config() {
    return config;
  }

  /** The counters, cumulative. */
  public WorkerStats stats() {
    return stats;
  }

  /** Why the pool stopped serving ({@link CrashLoopException}, {@link WorkerStartException}), or null. */
  public WorkerException failure() {
    return fatal;
  }

  /**
   * The results ({@code {handle, ...}}) of the {@link WorkerConfig#withSetup} commands on a live
   * worker; the same on every worker, since handles are numbered in setup order.
   *
   * @throws WorkerException when no worker can be live
   */
  public List<java.util.Map<String, Object>> setupResults() throws WorkerException {
    Member m = pick();
    m.assigned.decrementAndGet();
    return m.worker.setupResults();
  }

  /** Process ids of the live workers (for tests and diagnostics). */
  public List<Long> pids() {
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

  /** Sends a request to the least-loaded live worker; see the class documentation for failures. */
  public CompletableFuture<Message> submit(Request request) {
    return submit(request, name -> {});
  }

  /**
   * {@link #submit}, telling {@code onAssigned} the name of the worker the request is sent to
   * ({@code worker 3 (pid 1234)}), before it is sent.
   */
  public CompletableFuture<Message> submit(Request request, Consumer<String> onAssigned) {
    stats.request();
    long t0 = System.nanoTime();
    CompletableFuture<Message> result = new CompletableFuture<>();
    Member m;
    try {
      m = pick();
    } catch (WorkerException e) {
      stats.failure();
      result.completeExceptionally(e);
      return result;
    }
    onAssigned.accept(m.worker.name());
    m.worker.submit(request).whenComplete((msg, err) -> {
      done(m, err == null);
      if (err == null) {
        stats.requestLatency().recordNanos(System.nanoTime() - t0);
        result.complete(msg);
      } else {
        stats.failure();
        result.completeExceptionally(unwrap(err));
      }
    });
    return result;
  }

  /** {@link #submit} and wait: the answer, or the {@link WorkerException} it failed with. */
  public Message call(Request request) throws WorkerException, InterruptedException {
    return call(request, name -> {});
  }

  /** {@link #submit(Request, Consumer)} and wait. */
  public Message call(Request request, Consumer<String> onAssigned) throws WorkerException, InterruptedException {
    try {
      return submit(request, onAssigned).get();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof WorkerException) {
        throw (WorkerException) c;
      }
      throw new CompletionException(c);
    }
  }

  /**
   * Sends a streaming request to the least-loaded live worker; see {@link
   * PythonWorker#submitStream}. Never re-sent by the pool.
   */
  public CompletableFuture<StreamEvent.End> submitStream(Request request, StreamListener listener) {
    stats.request();
    long t0 = System.nanoTime();
    CompletableFuture<StreamEvent.End> result = new CompletableFuture<>();
    Member m;
    try {
      m = pick();
    } catch (WorkerException e) {
      stats.failure();
      result.completeExceptionally(e);
      return result;
    }
    m.worker.submitStream(request, listener).whenComplete((end, err) -> {
      done(m, err == null);
      if (err == null) {
        stats.requestLatency().recordNanos(System.nanoTime() - t0);
        result.complete(end);
      } else {
        stats.failure();
        result.completeExceptionally(unwrap(err));
      }
    });
    return result;
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  /** Waits for a live worker and assigns it one request. */
  private Member pick() throws WorkerException {
    lastRequestNanos = System.nanoTime();
    long waitNanos = config.startTimeout().toNanos() * 2 + config.restartBackoffMax().toNanos();
    long deadline = System.nanoTime() + waitNanos;
    synchronized (lock) {
      if (idle && !closed && fatal == null) {
        idle = false;
        startAll(false);
      }
      while (true) {
        if (fatal != null) {
          throw fatal;
        }
        if (closed) {
          throw new IllegalStateException("the worker pool is closed");
        }
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
          return best;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new WorkerCrashedException("no live worker in the pool after waiting "
              + Durations.nanos(waitNanos) + " for restarts", null);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new WorkerCrashedException("interrupted while waiting for a live worker", e);
        }
      }
    }
  }

  private void done(Member m, boolean ok) {
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
      try {
        w = PythonWorker.start(config, nextWorkerId.incrementAndGet(), stats);
      } catch (WorkerStartException e) {
        synchronized (lock) {
          s.starting = false;
        }
        if (e.isTransient()) {
          crashed(s, e);
        } else {
          fail(e);
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
        lock.notifyAll();
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

  /** A worker of {@code s} died or failed to start: count it, then restart after a backoff or trip. */
  private void crashed(Slot s, WorkerException cause) {
    long delay;
    synchronized (lock) {
      if (closed || fatal != null) {
        return;
      }
      if (breaker.record(System.nanoTime())) {
        String msg = "workers died " + config.crashLoopCrashes() + " times within "
            + Durations.words(config.crashLoopWindow()) + " (WorkerConfig.withCrashLoop): the pool"
            + " stopped restarting them; the last one: " + cause.getMessage();
        fail(new CrashLoopException(msg, cause));
        return;
      }
      s.crashesInARow++;
      delay = RestartBackoff.delayNanos(config.restartBackoffInitial(), config.restartBackoffMax(), s.crashesInARow);
    }
    LOG.info("restarting worker slot {} in {}", s.index, Durations.nanos(delay));
    WorkerThreads.SCHEDULER.schedule(() -> startSlot(s, true), delay, TimeUnit.NANOSECONDS);
  }

  /** Takes every live worker out of its slot and wakes the waiters; the caller holds the lock. */
  private List<Member> detachAll() {
    List<Member> members = new ArrayList<>();
    for (Slot s : slots) {
      if (s.current != null) {
        members.add(s.current);
        s.current = null;
      }
    }
    lock.notifyAll();
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

  /** Stops every worker gracefully (waiting for them) and fails later requests. */
  @Override
  public void close() {
    List<Member> members;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      members = detachAll();
    }
    maintenance.cancel(false);
    firstReady.completeExceptionally(new WorkerCrashedException("the worker pool was closed", null));
    List<CompletableFuture<Void>> stops = new ArrayList<>();
    for (Member m : members) {
      stops.add(CompletableFuture.runAsync(m.worker::close, WorkerThreads.SUPERVISION));
    }
    CompletableFuture.allOf(stops.toArray(new CompletableFuture<?>[0])).join();
    LOG.info("worker pool closed: {}", stats);
  }
}
