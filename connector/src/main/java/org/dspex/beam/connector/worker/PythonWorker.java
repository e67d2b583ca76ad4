package org.dspex.beam.connector.worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.ProtocolVersion;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Python worker process and its channel: started and handshaken by {@link #start}, then serving
 * pipelined requests until it dies or is closed. Most code uses a {@link WorkerPool}, which
 * replaces dead workers; this class never restarts anything.
 *
 * <pre>{@code
 * PythonWorker w = PythonWorker.start(config, 1, new WorkerStats());
 * CompletableFuture<Message> a = w.submit(Request.of("echo").withArg("x", 1));
 * CompletableFuture<Message> b = w.submit(Request.of("echo").withArg("x", 2));   // in flight together
 * Message answer = a.get();
 * w.close();
 * }</pre>
 *
 * <h3>Threads</h3>
 *
 * <p>Per worker: a writer thread fed by a bounded queue (a caller waits only when the queue is
 * full), a reader thread that does nothing but read and dispatch, and a stderr pump. Both pipes can
 * be full at once without a deadlock (the reader never waits for the writer or for a caller:
 * futures are completed and stream listeners run on callback threads). Processes are forked by
 * {@link ProcessLauncher}'s single thread. The process is a {@link WorkerProcess}, the channel over
 * its pipes a {@link WorkerChannel}; this class starts them and answers for both.
 *
 * <h3>Failures</h3>
 *
 * <p>A handler error fails its request with a {@link RemoteHandlerException}; the worker goes on. A
 * request (or a stream's gap between events) exceeding its timeout gets the worker killed (SIGTERM,
 * then SIGKILL after the kill grace): that request fails with a {@link WorkerTimeoutException},
 * every other pending or queued one with a {@link WorkerCrashedException}. A worker with requests
 * in flight that answers no ping for the stall timeout ({@link WorkerConfig#withStallTimeout}) is
 * stalled (stopped, deadlocked) and killed at once (SIGKILL): its requests fail with {@link
 * WorkerCrashedException}s, long before their own timeout. A worker that dies fails
 * everything pending with a {@link WorkerCrashedException} saying how it ended, during which request
 * and after how long, with its last stderr lines. {@link #terminated()} completes after that.
 */
public final class PythonWorker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PythonWorker.class);

  private final int id;
  private final String name;
  private final WorkerConfig config;
  private final WorkerProcess process;
  private final WorkerChannel channel;
  private final Map<String, Object> hello;
  private final List<Map<String, Object>> setupResults = new ArrayList<>();

  private PythonWorker(int id, WorkerConfig config, WorkerHandshake.Handshaken h, WorkerStats stats) {
    this.id = id;
    this.name = h.process().name();
    this.config = config;
    this.process = h.process();
    this.channel = new WorkerChannel(process, h.connection(), h.spill(), h.ledger(), stats, h.launch().redactor,
        config.queueCapacity());
    this.hello = h.hello();
  }

  /**
   * Starts a worker: forks the interpreter, handshakes within the start timeout, checks versions,
   * runs the configured {@code setup}s within the setup timeout.
   *
   * @param stats where the worker counts body bytes (a pool counts starts, requests and latencies)
   * @param id the worker's id in its pool, for logs and the worker's own log lines
   * @throws WorkerStartException with a message saying what is wrong and what to do
   */
  public static PythonWorker start(WorkerConfig config, int id, WorkerStats stats) throws WorkerStartException {
    long t0 = System.nanoTime();
    WorkerHandshake.Handshaken h = WorkerHandshake.open(config, id);
    PythonWorker w = new PythonWorker(id, config, h, stats);
    w.channel.start(config.requestTimeout(), config.stallTimeout());
    try {
      w.runSetups();
    } catch (WorkerStartException e) {
      w.kill("its setup failed");
      throw e;
    }
    LOG.info("{} started in {} ({})", w.name, Durations.nanos(System.nanoTime() - t0),
        h.connection().protocolVersion() == ProtocolVersion.V1 ? "a V1 peer: JSON only" : h.hello().get("versions"));
    return w;
  }

  private void runSetups() throws WorkerStartException {
    for (Map<String, Object> args : config.setups()) {
      try {
        setupResults.add(submit(Request.of("setup").withArgs(args), config.setupTimeout()).get().resultMap());
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        WorkerStartException.Reason reason = c instanceof WorkerTimeoutException
            ? WorkerStartException.Reason.TIMED_OUT
            : c instanceof RemoteHandlerException ? WorkerStartException.Reason.REFUSED : WorkerStartException.Reason.EXITED;
        throw new WorkerStartException(reason, name + ": setup " + args.get("kind") + " failed: " + c.getMessage(), c);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new WorkerStartException(WorkerStartException.Reason.EXITED, name + ": interrupted during setup", e);
      }
    }
  }

  /** The worker's id in its pool. */
  public int id() {
    return id;
  }

  /** The process id. */
  public long pid() {
    return process.pid();
  }

  /** {@code worker 3 (pid 1234)}, as in every message about it. */
  public String name() {
    return name;
  }

  /** The worker's hello result: {@code protocol}, {@code worker_version}, {@code versions}, capabilities. */
  public Map<String, Object> helloResult() {
    return hello;
  }

  /**
   * The results of the configured {@code setup}s ({@code {handle, ...}}), in order. Handles are
   * {@code <kind>-<n>} in the order of setups, so every worker of a pool, restarted ones included,
   * has the same handles.
   */
  public List<Map<String, Object>> setupResults() {
    return List.copyOf(setupResults);
  }

  /** Requests queued or in flight. */
  public int load() {
    return channel.load();
  }

  /** Requests answered (successfully or not) by this worker. */
  public long answered() {
    return channel.answered();
  }

  /** Nanos ({@link System#nanoTime()}) of the last request submitted or answer read. */
  public long lastActivityNanos() {
    return channel.lastActivityNanos();
  }

  /** Whether the worker takes requests: started, not closing, not dead. */
  public boolean isRunning() {
    return channel.isRunning();
  }

  /**
   * Completes when the worker is gone and every request on it failed: with the crash (a {@link
   * WorkerCrashedException} or {@link WorkerTimeoutException}), or {@code null} after {@link
   * #close()}.
   */
  public CompletableFuture<WorkerException> terminated() {
    return channel.terminated();
  }

  /** The last stderr lines (redacted), oldest first. */
  public List<String> lastStderrLines() {
    return process.lastStderrLines();
  }

  /** Sends a request with the request timeout ({@code setup}: the setup timeout). */
  public CompletableFuture<Message> submit(Request request) {
    return submit(request, timeoutFor(request));
  }

  /** Sends a request that must be answered within {@code timeout}. */
  public CompletableFuture<Message> submit(Request request, Duration timeout) {
    PendingRequest p = PendingRequest.plain(request, timeout);
    channel.enqueue(p);
    return p.response;
  }

  /**
   * Sends a streaming request; events go to {@code listener} in order; the future completes with
   * the {@code End} event after the listener saw it, or fails ({@link RemoteHandlerException} for a
   * {@code STREAM_ERROR} or an error response). The request timeout applies between events.
   */
  public CompletableFuture<StreamEvent.End> submitStream(Request request, StreamListener listener) {
    PendingRequest p = PendingRequest.stream(request, timeoutFor(request), listener);
    // Before enqueueing: no event of this request can reach the listener before it knows the worker.
    listener.onAssigned(name);
    channel.enqueue(p);
    return p.streamEnd;
  }

  private Duration timeoutFor(Request request) {
    return "setup".equals(request.command()) ? config.setupTimeout() : config.requestTimeout();
  }

  /**
   * Kills the worker: SIGTERM, then SIGKILL after the kill grace. Pending requests fail with {@link
   * WorkerCrashedException}s naming {@code reason}.
   */
  public void kill(String reason) {
    if (!channel.isDying()) {
      process.kill(reason);
    }
  }

  /**
   * Stops the worker gracefully: no new requests; the queued ones are still sent; then end of input
   * (the worker exits when its requests are answered); SIGTERM and SIGKILL if it lingers past the
   * kill grace. Blocks until it is gone.
   */
  @Override
  public void close() {
    long patience = config.killGrace().toMillis() + config.requestTimeout().toMillis();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(patience);
    // Behind every queued request; waits only while the writer drains a full queue, which a hung
    // worker may never let it do: then the kill below ends it.
    channel.close(deadline);
    CompletableFuture<WorkerException> terminated = channel.terminated();
    try {
      terminated.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      kill("it did not stop after close()");
      terminated.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
