package org.dspex.beam.connector.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N {@link PythonWorker}s of one {@link WorkerConfig}, kept alive: each request goes to the live
 * worker with the fewest requests in flight (several may be in flight on one worker), idle workers
 * are pinged, dead or hung ones are replaced after an exponential backoff, and a crash loop (or a
 * worker that never comes up) stops the pool with a {@link CrashLoopException} (a {@link
 * WorkerStartException}) instead of restarting forever.
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
 *   CompletableFuture<Message> m = pool.submit(Request.of("embed").withBody("inputs", batch));
 *
 *   // Streams: keep each chunk's results, so a crash costs only the indexes not yet reported.
 *   CompletableFuture<StreamEvent.End> end = pool.submitStream(
 *       Request.of("predict").withBody("inputs", batch), event -> {
 *         if (event instanceof StreamEvent.Chunk) { keep((StreamEvent.Chunk) event); }
 *       });
 *
 * @Teardown
 * public void teardown() {
 *   WorkerPools.release(pool);                     // the last release stops the workers
 * }
 * }</pre>
 *
 * <h3>Threads</h3>
 *
 * <p>{@code submit} and {@code submitStream} return at once (they wait only while the chosen
 * worker's queue is full, see {@link WorkerConfig#withQueueCapacity}); a request that finds no live
 * worker (all restarting) is queued until one is ready, without a thread waiting for it. Futures
 * are completed, and stream listeners run, on callback threads, never on a worker's reader thread,
 * so a caller may chain more requests onto them. {@link #call} waits, for callers that want to.
 *
 * <h3>Exclusive use</h3>
 *
 * <p>A request submitted with {@link Exclusivity#EXCLUSIVE} is sent when nothing else of this pool
 * is in flight, and the requests submitted after it wait until it completes (health pings are not
 * requests and go on). A caller suspecting an element of killing its worker sends it so: if the
 * worker dies then, that element did it.
 *
 * <h3>Failures</h3>
 *
 * <p>A request fails with a {@link WorkerException}: see {@link WorkerException#isRetryable()}. The
 * pool sends each request once and never re-sends it: the caller knows what it still needs (which
 * indexes of a stream, whether a batch is worth splitting), so retries are the caller's (in the
 * transforms, {@code BatchExecutor}). A start failure that a restart cannot fix (no interpreter,
 * missing packages, version mismatch) fails the pool at once with its {@link WorkerStartException};
 * a worker that dies or times out while starting (before its setups are done) is restarted, and
 * {@link WorkerConfig#withMaxStartFailures} such starts in a row fail the pool with a {@link
 * WorkerStartException} naming the last one. Started workers that die count towards the
 * crash-loop breaker ({@link WorkerConfig#withCrashLoop}). A worker with requests in flight that
 * answers no ping for the stall timeout ({@link WorkerConfig#withStallTimeout}) is killed and
 * replaced like a dead one. A request waiting for a live worker fails after twice the start
 * timeout plus the longest restart backoff.
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
  private final WorkerSupervisor supervisor;
  private final Admission admission = new Admission();

  private WorkerPool(WorkerConfig config) {
    this.config = config;
    this.supervisor = new WorkerSupervisor(config, stats);
  }

  /**
   * Starts a pool of its own (not shared through {@link WorkerPools}) and waits until a worker is
   * ready.
   *
   * @throws WorkerStartException when workers cannot start with this configuration, or failed
   *     to start {@link WorkerConfig#withMaxStartFailures} times in a row
   */
  public static WorkerPool create(WorkerConfig config) throws WorkerException {
    WorkerPool pool = new WorkerPool(config);
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
    return new WorkerPool(config);
  }

  /** Waits until one worker is ready, or throws why none can be. */
  void awaitReady() throws WorkerException {
    supervisor.awaitReady();
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
    return supervisor.failure();
  }

  /**
   * The results ({@code {handle, ...}}) of the {@link WorkerConfig#withSetup} commands on a live
   * worker; the same on every worker, since handles are numbered in setup order. Waits for a live
   * worker as a request would.
   *
   * @throws WorkerException when no worker can be live
   */
  public List<Map<String, Object>> setupResults() throws WorkerException {
    CompletableFuture<List<Map<String, Object>>> results = new CompletableFuture<>();
    supervisor.whenLive(new WorkerSupervisor.Assignment() {
      @Override
      public void assigned(WorkerSupervisor.Member m) {
        m.assigned.decrementAndGet();
        results.complete(m.worker.setupResults());
      }

      @Override
      public void failed(Throwable e) {
        results.completeExceptionally(e);
      }
    });
    try {
      return results.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WorkerCrashedException("interrupted while waiting for a live worker", e);
    } catch (ExecutionException e) {
      throw rethrown(e.getCause());
    }
  }

  /** Process ids of the live workers (for tests and diagnostics). */
  public List<Long> pids() {
    return supervisor.pids();
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
    return submit(request, onAssigned, Exclusivity.SHARED);
  }

  /** {@link #submit(Request, Consumer)}, alone on the pool if {@link Exclusivity#EXCLUSIVE}. */
  public CompletableFuture<Message> submit(Request request, Consumer<String> onAssigned, Exclusivity exclusivity) {
    return dispatch(exclusivity, w -> {
      onAssigned.accept(w.name());
      return w.submit(request);
    });
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
      throw rethrown(e.getCause());
    }
  }

  /**
   * Sends a streaming request to the least-loaded live worker; see {@link
   * PythonWorker#submitStream}. Never re-sent by the pool.
   */
  public CompletableFuture<StreamEvent.End> submitStream(Request request, StreamListener listener) {
    return submitStream(request, listener, Exclusivity.SHARED);
  }

  /** {@link #submitStream(Request, StreamListener)}, alone on the pool if {@link Exclusivity#EXCLUSIVE}. */
  public CompletableFuture<StreamEvent.End> submitStream(
      Request request, StreamListener listener, Exclusivity exclusivity) {
    return dispatch(exclusivity, w -> w.submitStream(request, listener));
  }

  /** Admits a request, waits (without a thread) for a live worker, sends it, and counts it. */
  private <T> CompletableFuture<T> dispatch(Exclusivity exclusivity, Function<PythonWorker, CompletableFuture<T>> send) {
    if (supervisor.isClosed()) {
      throw WorkerSupervisor.closedError();
    }
    stats.request();
    long t0 = System.nanoTime();
    CompletableFuture<T> result = new CompletableFuture<>();
    BiConsumer<T, Throwable> finish = (value, err) -> {
      if (err == null) {
        stats.requestLatency().recordNanos(System.nanoTime() - t0);
        result.complete(value);
      } else {
        stats.failure();
        result.completeExceptionally(unwrap(err));
      }
      admission.exit(exclusivity);
    };
    admission.enter(exclusivity, () -> supervisor.whenLive(new WorkerSupervisor.Assignment() {
      @Override
      public void assigned(WorkerSupervisor.Member m) {
        CompletableFuture<T> sent;
        try {
          sent = send.apply(m.worker);
        } catch (RuntimeException e) {
          sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((value, err) -> {
          supervisor.done(m);
          finish.accept(value, err);
        });
      }

      @Override
      public void failed(Throwable e) {
        finish.accept(null, e);
      }
    }));
    return result;
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  private static WorkerException rethrown(Throwable c) {
    if (c instanceof WorkerException) {
      return (WorkerException) c;
    }
    if (c instanceof RuntimeException) {
      throw (RuntimeException) c;
    }
    throw new CompletionException(c);
  }

  /** Whether the pool has stopped serving (closed or failed). */
  boolean isDone() {
    return supervisor.isDone();
  }

  /** Stops every worker gracefully (waiting for them) and fails later requests. */
  @Override
  public void close() {
    if (supervisor.close()) {
      LOG.info("worker pool closed: {}", stats);
    }
  }
}
