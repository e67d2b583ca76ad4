package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.dspex.beam.connector.protocol.Connection;
import org.dspex.beam.connector.protocol.Incoming;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.ProtocolException;
import org.dspex.beam.connector.protocol.ProtocolVersion;
import org.dspex.beam.connector.protocol.RemoteError;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.SpillDirectory;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.dspex.beam.connector.protocol.UnsupportedByPeerException;
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
 * {@link ProcessLauncher}'s single thread.
 *
 * <h3>Failures</h3>
 *
 * <p>A handler error fails its request with a {@link RemoteHandlerException}; the worker goes on. A
 * request (or a stream's gap between events) exceeding its timeout gets the worker killed (SIGTERM,
 * then SIGKILL after the kill grace): that request fails with a {@link WorkerTimeoutException},
 * every other pending or queued one with a {@link WorkerCrashedException}. A worker that dies fails
 * everything pending with a {@link WorkerCrashedException} saying how it ended, during which request
 * and after how long, with its last stderr lines. {@link #terminated()} completes after that.
 */
public final class PythonWorker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PythonWorker.class);
  private static final PendingRequest STOP = PendingRequest.plain(Request.of("-stop-"), Duration.ZERO);

  private final int id;
  private final String name;
  private final WorkerConfig config;
  private final Process process;
  private final Redactor redactor;
  private final StderrPump stderr;
  private final Connection connection;
  private final SpillDirectory spill;
  private final WorkerStats stats;
  private final Map<String, Object> hello;
  private final List<Map<String, Object>> setupResults = new ArrayList<>();
  private final Map<Long, PendingRequest> pending = new ConcurrentHashMap<>();
  private final BlockingQueue<PendingRequest> queue;
  private final AtomicInteger load = new AtomicInteger();
  private final AtomicLong answered = new AtomicLong();
  private final AtomicBoolean dying = new AtomicBoolean();
  private final CompletableFuture<WorkerException> terminated = new CompletableFuture<>();
  private volatile boolean closing;
  private volatile String killReason;
  private volatile PendingRequest timedOut;
  private volatile long lastActivityNanos = System.nanoTime();
  private volatile Thread writerThread;
  private ScheduledFuture<?> watchdog;

  private PythonWorker(
      int id, String name, WorkerConfig config, Process process, Redactor redactor, StderrPump stderr,
      Connection connection, SpillDirectory spill, WorkerStats stats, Map<String, Object> hello) {
    this.id = id;
    this.name = name;
    this.config = config;
    this.process = process;
    this.redactor = redactor;
    this.stderr = stderr;
    this.connection = connection;
    this.spill = spill;
    this.stats = stats;
    this.hello = hello;
    this.queue = new ArrayBlockingQueue<>(config.queueCapacity());
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
    PythonWorker w = new PythonWorker(id, h.name(), config, h.process(), h.launch().redactor, h.stderr(),
        h.connection(), h.spill(), stats, h.hello());
    w.run();
    try {
      w.runSetups();
    } catch (WorkerStartException e) {
      w.kill("its setup failed");
      throw e;
    }
    LOG.info("{} started in {} ({})", h.name(), Durations.nanos(System.nanoTime() - t0),
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

  private void run() {
    Thread reader = WorkerThreads.daemon(name + " reader", this::readLoop);
    Thread writer = WorkerThreads.daemon(name + " writer", this::writeLoop);
    writerThread = writer;
    long tick = Math.max(10, Math.min(1000, config.requestTimeout().toMillis() / 20));
    watchdog = WorkerThreads.SCHEDULER.scheduleWithFixedDelay(this::checkDeadlines, tick, tick, TimeUnit.MILLISECONDS);
    reader.start();
    writer.start();
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
    return load.get();
  }

  /** Requests answered (successfully or not) by this worker. */
  public long answered() {
    return answered.get();
  }

  /** Nanos ({@link System#nanoTime()}) of the last request submitted or answer read. */
  public long lastActivityNanos() {
    return lastActivityNanos;
  }

  /** Whether the worker takes requests: started, not closing, not dead. */
  public boolean isRunning() {
    return !closing && !dying.get();
  }

  /**
   * Completes when the worker is gone and every request on it failed: with the crash (a {@link
   * WorkerCrashedException} or {@link WorkerTimeoutException}), or {@code null} after {@link
   * #close()}.
   */
  public CompletableFuture<WorkerException> terminated() {
    return terminated;
  }

  /** The last stderr lines (redacted), oldest first. */
  public List<String> lastStderrLines() {
    return stderr.lastLines();
  }

  /** Sends a request with the request timeout ({@code setup}: the setup timeout). */
  public CompletableFuture<Message> submit(Request request) {
    return submit(request, timeoutFor(request));
  }

  /** Sends a request that must be answered within {@code timeout}. */
  public CompletableFuture<Message> submit(Request request, Duration timeout) {
    PendingRequest p = PendingRequest.plain(request, timeout);
    enqueue(p);
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
    enqueue(p);
    return p.streamEnd;
  }

  private Duration timeoutFor(Request request) {
    return "setup".equals(request.command()) ? config.setupTimeout() : config.requestTimeout();
  }

  private void enqueue(PendingRequest p) {
    load.incrementAndGet();
    lastActivityNanos = System.nanoTime();
    boolean queued = false;
    try {
      while (!queued && isRunning()) {
        queued = queue.offer(p, 50, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      load.decrementAndGet();
      p.fail(new WorkerCrashedException(name, name + ": interrupted while queueing " + p.describe(), e));
      return;
    }
    // Whoever takes it out of the queue fails it: the death handler drains the queue (after
    // marking the worker dead), and a request that got in after the drain is taken back here.
    if (!queued || (!isRunning() && queue.remove(p))) {
      load.decrementAndGet();
      p.fail(notRunning(p));
    }
  }

  private WorkerException notRunning(PendingRequest p) {
    WorkerException death = terminated.getNow(null);
    String why = closing && death == null ? " was closed" : " is dead";
    return new WorkerCrashedException(name, name + why + "; " + p.describe() + " was not sent"
        + (death == null ? "" : ": " + death.getMessage()), death);
  }

  private void writeLoop() {
    while (true) {
      PendingRequest p;
      try {
        p = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (p == STOP) {
        closeOutput();
        return;
      }
      if (dying.get()) {
        failUnsent(p);
        return;
      }
      p.touch();
      try {
        // Pending under the connection's id before a byte is written: the answer may be read first.
        stats.sent(connection.send(p.request, id -> {
          p.id = id;
          pending.put(id, p);
        }));
        if (dying.get()) {
          // The death handler may have emptied the map before the put: whoever removes, fails.
          failIfStillPending(p);
          return;
        }
      } catch (UnsupportedByPeerException e) {
        // A V1 peer cannot take it; nothing was written, the channel is fine.
        failWritten(p, new UnsupportedRequestException(name, e));
      } catch (ProtocolException | IllegalArgumentException | UnsupportedOperationException e) {
        // The request could not be encoded; nothing was written, the channel is fine.
        failWritten(p, e);
      } catch (IOException | RuntimeException e) {
        // A broken pipe: the worker is dead or dying; the reader reports how.
        if (!closing) {
          LOG.debug("{}: write failed", name, e);
        }
        process.destroy();
        if (p.id < 0) {
          failUnsent(p);
        } else if (dying.get()) {
          failIfStillPending(p);
        }
        return;
      }
    }
  }

  /** Fails a request whose write was refused before any byte went out, unless the death handler did. */
  private void failWritten(PendingRequest p, Exception e) {
    if (p.id < 0 || pending.remove(p.id) != null) {
      load.decrementAndGet();
      p.fail(e);
    }
  }

  private void failIfStillPending(PendingRequest p) {
    if (pending.remove(p.id) != null) {
      failUnsent(p);
    }
  }

  private void failUnsent(PendingRequest p) {
    load.decrementAndGet();
    p.fail(notRunning(p));
  }

  private void closeOutput() {
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // Already closed by a dying worker.
    }
  }

  private void readLoop() {
    IOException failure = null;
    try {
      while (true) {
        Incoming in;
        try {
          in = connection.read();
        } catch (ProtocolException e) {
          if (e.isChunkOfOpenStream() && keepStreamOpen(e)) {
            continue;
          }
          if (e.requestId().isPresent()) {
            PendingRequest p = pending.remove(e.requestId().getAsLong());
            if (p != null) {
              finish(p);
              p.fail(e);
            }
            continue;
          }
          throw e;
        }
        if (in == null) {
          break;
        }
        lastActivityNanos = System.nanoTime();
        stats.received(in);
        dispatch(in);
      }
    } catch (IOException e) {
      failure = e;
    } catch (RuntimeException e) {
      failure = new IOException(e);
    }
    died(failure);
  }

  /**
   * A chunk of an open stream could not be read: the stream stays pending so that its later
   * chunks, whose results the caller keeps, still reach the listener (failing it now would drop
   * them as "unknown request", and the caller would pay for those elements again). It fails with
   * this error at its end, or with the worker's death.
   */
  private boolean keepStreamOpen(ProtocolException e) {
    PendingRequest p = pending.get(e.requestId().getAsLong());
    if (p == null || !p.isStream()) {
      return false;
    }
    LOG.warn("{}: {}; the stream's later chunks are kept and it fails at its end", name, e.getMessage());
    p.touch();
    if (p.brokenChunk == null) {
      p.brokenChunk = e;
    }
    return true;
  }

  private void dispatch(Incoming in) throws IOException {
    if (in instanceof Message) {
      Message m = (Message) in;
      if (m.id() == 0 && !m.success()) {
        // The worker's last words before it exits (docs/protocol.md section 8).
        throw new IOException(name + " reported a broken channel: " + redact(m.error()));
      }
      PendingRequest p = pending.remove(m.id());
      if (p == null) {
        LOG.warn("{}: answer to unknown request {}", name, m.id());
        return;
      }
      finish(p);
      if (m.success()) {
        if (p.isStream()) {
          p.fail(new ProtocolException(name + " answered streaming " + p.describe() + " with a plain response") {
            @Override
            public String errorName() {
              return "UnexpectedFrame";
            }
          });
        } else {
          // Element failure messages come from Python (an LM client may echo its key).
          p.completeResponse(redactor.redactFailed(m));
        }
      } else {
        p.fail(new RemoteHandlerException(name, p.id, p.request.command(), redact(m.error())));
      }
      return;
    }
    StreamEvent e = (StreamEvent) in;
    PendingRequest p = e.isLast() ? pending.remove(e.id()) : pending.get(e.id());
    if (p == null || !p.isStream()) {
      LOG.warn("{}: stream event for unknown request {}", name, e.id());
      return;
    }
    p.touch();
    if (e.isLast()) {
      finish(p);
    }
    if (e instanceof StreamEvent.Error) {
      p.fail(new RemoteHandlerException(name, p.id, p.request.command(), redact(((StreamEvent.Error) e).error())));
    } else if (e instanceof StreamEvent.End && p.brokenChunk != null) {
      p.fail(p.brokenChunk);
    } else {
      if (e instanceof StreamEvent.Chunk) {
        // Element failure messages come from Python (an LM client may echo its key).
        e = redactor.redact((StreamEvent.Chunk) e);
      }
      p.deliver(e);
      if (e instanceof StreamEvent.End) {
        p.completeStream((StreamEvent.End) e);
      }
    }
  }

  private void finish(PendingRequest p) {
    load.decrementAndGet();
    answered.incrementAndGet();
  }

  private RemoteError redact(RemoteError e) {
    return new RemoteError(e.type(), redactor.redact(e.message()), redactor.redact(e.traceback()));
  }

  private void checkDeadlines() {
    long now = System.nanoTime();
    for (PendingRequest p : pending.values()) {
      if (now - p.deadlineNanos > 0) {
        timedOut = p;
        kill(p.describe() + " exceeded its timeout of " + Durations.words(p.timeout));
        return;
      }
    }
  }

  /**
   * Kills the worker: SIGTERM, then SIGKILL after the kill grace. Pending requests fail with {@link
   * WorkerCrashedException}s naming {@code reason}.
   */
  public void kill(String reason) {
    if (killReason != null || dying.get()) {
      return;
    }
    killReason = reason;
    LOG.warn("{}: killing it: {}", name, reason);
    process.destroy();
    WorkerThreads.SCHEDULER.schedule(() -> {
      if (process.isAlive()) {
        process.destroyForcibly();
      }
    }, config.killGrace().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Runs on the reader thread when the channel ends: fails everything and reports the death. */
  private void died(IOException failure) {
    if (!dying.compareAndSet(false, true)) {
      return;
    }
    if (watchdog != null) {
      watchdog.cancel(false);
    }
    boolean expected = closing && killReason == null;
    if (failure != null && process.isAlive()) {
      // The channel broke but the process runs on: it cannot be trusted.
      process.destroy();
    }
    Integer exit = awaitExit();
    stderr.awaitEnd(1000);
    String suffix = stderr.lastLinesSuffix();
    String ended = exit == null ? " could not be stopped" : " exited with " + ExitStatus.describe(exit);
    String how = killReason == null
        ? name + ended
        : name + " was killed because " + killReason + "; it" + ended;
    if (failure != null && killReason == null) {
      how = name + " broke its channel (" + failure.getMessage() + ") and" + ended;
    }
    how = redactor.redact(how);
    Throwable cause = safeCause(failure);
    long now = System.nanoTime();
    List<PendingRequest> all = new ArrayList<>();
    for (Long requestId : new ArrayList<>(pending.keySet())) {
      // remove() decides who fails a request: here, or the writer that raced with this.
      PendingRequest p = pending.remove(requestId);
      if (p != null) {
        all.add(p);
      }
    }
    for (PendingRequest p : all) {
      load.decrementAndGet();
      String when = " during " + p.describe() + " after " + Durations.nanos(now - p.submittedNanos);
      if (p == timedOut) {
        p.fail(new WorkerTimeoutException(name, how + when + suffix, cause));
      } else {
        p.fail(new WorkerCrashedException(name, how + when + suffix, cause));
      }
    }
    Thread writer = writerThread;
    if (writer != null) {
      writer.interrupt();
    }
    PendingRequest q;
    while ((q = queue.poll()) != null) {
      if (q != STOP) {
        load.decrementAndGet();
        q.fail(new WorkerCrashedException(name, how + " before " + q.describe() + " was sent" + suffix, cause));
      }
    }
    try {
      connection.close();
    } catch (IOException ignored) {
      // The process is gone.
    }
    try {
      if (spill != null) {
        spill.close();
      }
    } catch (IOException e) {
      LOG.debug("{}: spill directory cleanup failed", name, e);
    }
    WorkerException death = null;
    if (!expected || !all.isEmpty()) {
      death = timedOut != null
          ? new WorkerTimeoutException(name, how + suffix, cause)
          : new WorkerCrashedException(name, how + (all.isEmpty() ? " while idle" : "") + suffix, cause);
      LOG.warn("{}", death.getMessage());
    } else {
      LOG.info("{} stopped ({})", name, exit == null ? "killed" : ExitStatus.describe(exit));
    }
    terminated.complete(death);
  }

  private Throwable safeCause(Throwable t) {
    if (t == null) {
      return null;
    }
    String text = String.valueOf(t);
    // A cause carrying a secret (bytes echoed from the channel, say) is left out entirely.
    return redactor.redact(text).equals(text) ? t : null;
  }

  private Integer awaitExit() {
    try {
      if (!process.waitFor(config.killGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          return null;
        }
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      return null;
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
    if (!closing) {
      closing = true;
      // Behind every queued request; waits only while the writer drains a full queue, which a
      // hung worker may never let it do: then the kill below ends it.
      boolean queued = false;
      while (!queued && !dying.get() && System.nanoTime() < deadline) {
        try {
          queued = queue.offer(STOP, 50, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
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
