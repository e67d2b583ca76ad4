package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.dspex.beam.connector.protocol.Connection;
import org.dspex.beam.connector.protocol.Incoming;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.ProtocolException;
import org.dspex.beam.connector.protocol.ProtocolVersion;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.SpillDirectory;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.dspex.beam.connector.protocol.UnsupportedByPeerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The channel to one worker process, after its handshake: requests queued for a writer thread,
 * written with the ids the {@link Connection} gives them and kept pending under those ids; a reader
 * thread that does nothing but read and dispatch answers and stream events; a watchdog that kills
 * the process when a request (or a stream's gap between events) outlives its timeout, or when it
 * stalls (a {@link StallWatch}: pinged while busy and silent, it answers nothing for the stall
 * timeout); and, when the channel ends, every pending and queued request failed with how the
 * process ended.
 *
 * <p>Both pipes can be full at once without a deadlock: the reader never waits for the writer or
 * for a caller, since futures are completed and stream listeners run on callback threads ({@link
 * PendingRequest}).
 *
 * <p>The reader sums the LM usage the worker's answers report; when the channel ends (the process
 * gone), the worker's {@link UsageLedger} says what it paid for, and what no answer reported
 * (chunks it died before sending, calls in flight) goes to {@link WorkerStats#unreportedLmCalls()},
 * before any pending request fails, so a retry's caller finds it counted.
 */
final class WorkerChannel {
  private static final Logger LOG = LoggerFactory.getLogger(PythonWorker.class);
  private static final PendingRequest STOP = PendingRequest.plain(Request.of("-stop-"), Duration.ZERO);

  private final String name;
  private final WorkerProcess process;
  private final Connection connection;
  private final SpillDirectory spill;
  private final UsageLedger ledger;
  private final WorkerStats stats;
  private final Redactor redactor;
  private final PendingRequests pending = new PendingRequests();
  private final BlockingQueue<PendingRequest> queue;
  private final AtomicBoolean dying = new AtomicBoolean();
  private final CompletableFuture<WorkerException> terminated = new CompletableFuture<>();
  private volatile boolean closing;
  private volatile PendingRequest timedOut;
  private volatile boolean stalled;
  private volatile long lastActivityNanos = System.nanoTime();
  private volatile long lastReadNanos = System.nanoTime();
  /** The stall watch's pings queued or in flight, which do not make the worker busy. */
  private final AtomicInteger probes = new AtomicInteger();
  private volatile Thread writerThread;
  // Read and written by the reader thread only (the death handler runs on it too).
  private LmUsage reported = LmUsage.ZERO;
  private ScheduledFuture<?> watchdog;
  private StallWatch stallWatch;
  private Duration requestTimeout;

  WorkerChannel(WorkerProcess process, Connection connection, SpillDirectory spill, UsageLedger ledger,
      WorkerStats stats, Redactor redactor, int queueCapacity) {
    this.name = process.name();
    this.process = process;
    this.connection = connection;
    this.spill = spill;
    this.ledger = ledger;
    this.stats = stats;
    this.redactor = redactor;
    this.queue = new ArrayBlockingQueue<>(queueCapacity);
  }

  /**
   * Starts the reader, the writer and the watchdog (ticking at a twentieth of the shorter of
   * {@code requestTimeout} and {@code stallTimeout}, at most every second). A zero {@code
   * stallTimeout} turns the stall watch off; so does a V1 peer, which answers one request at a time.
   */
  void start(Duration requestTimeout, Duration stallTimeout) {
    Thread reader = WorkerThreads.daemon(name + " reader", this::readLoop);
    Thread writer = WorkerThreads.daemon(name + " writer", this::writeLoop);
    writerThread = writer;
    this.requestTimeout = requestTimeout;
    this.stallWatch = new StallWatch(
        connection.protocolVersion() == ProtocolVersion.V1 ? Duration.ZERO : stallTimeout);
    long shortest = stallWatch.enabled() ? Math.min(requestTimeout.toMillis(), stallTimeout.toMillis())
        : requestTimeout.toMillis();
    long tick = Math.max(10, Math.min(1000, shortest / 20));
    watchdog = WorkerThreads.SCHEDULER.scheduleWithFixedDelay(this::checkDeadlines, tick, tick, TimeUnit.MILLISECONDS);
    reader.start();
    writer.start();
  }

  /** Requests queued or in flight. */
  int load() {
    return pending.load();
  }

  /** Requests answered (successfully or not). */
  long answered() {
    return pending.answeredCount();
  }

  /** Nanos of the last request submitted or answer read. */
  long lastActivityNanos() {
    return lastActivityNanos;
  }

  /** Whether requests are taken: not closing, not dead. */
  boolean isRunning() {
    return !closing && !dying.get();
  }

  /** Whether the channel ended (or is ending). */
  boolean isDying() {
    return dying.get();
  }

  /** Completes when the channel is gone: with the crash, or null after a clean close. */
  CompletableFuture<WorkerException> terminated() {
    return terminated;
  }

  /** Queues {@code p} for the writer; waits only while the queue is full. Fails it if not running. */
  void enqueue(PendingRequest p) {
    lastActivityNanos = System.nanoTime();
    put(p, true);
  }

  /**
   * Queues {@code p}, waiting while the queue is full if {@code wait}; false (and {@code p} failed)
   * when it was not queued.
   */
  private boolean put(PendingRequest p, boolean wait) {
    pending.queued();
    boolean queued = false;
    try {
      if (wait) {
        while (!queued && isRunning()) {
          queued = queue.offer(p, 50, TimeUnit.MILLISECONDS);
        }
      } else {
        queued = isRunning() && queue.offer(p);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      pending.dropped();
      p.fail(new WorkerCrashedException(name, name + ": interrupted while queueing " + p.describe(), e));
      return false;
    }
    // Whoever takes it out of the queue fails it: the death handler drains the queue (after
    // marking the worker dead), and a request that got in after the drain is taken back here.
    if (!queued || (!isRunning() && queue.remove(p))) {
      pending.dropped();
      p.fail(notRunning(p));
      return false;
    }
    return true;
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
        process.closeInput();
        return;
      }
      if (dying.get()) {
        pending.failUnlessTaken(p, notRunning(p));
        return;
      }
      p.touch();
      try {
        // Pending under the connection's id before a byte is written: the answer may be read first.
        stats.sent(connection.send(p.request, id -> pending.written(id, p)));
        if (dying.get()) {
          // The death handler may have emptied the map before the put: whoever removes, fails.
          pending.failUnlessTaken(p, notRunning(p));
          return;
        }
      } catch (UnsupportedByPeerException e) {
        // A V1 peer cannot take it; nothing was written, the channel is fine.
        pending.failUnlessTaken(p, new UnsupportedRequestException(name, e));
      } catch (ProtocolException | IllegalArgumentException | UnsupportedOperationException e) {
        // The request could not be encoded; nothing was written, the channel is fine.
        pending.failUnlessTaken(p, e);
      } catch (Error e) {
        // An Error once bytes were written (MessageWriter fails those met before as EncodingErrors):
        // what reached the pipe is unknown, so the worker is stopped; this request fails with the
        // error and the reader reports the others.
        pending.failUnlessTaken(p, new WorkerCrashedException(name,
            name + ": " + p.describe() + " could not be sent: this JVM failed writing it: " + e, e));
        process.destroy();
        return;
      } catch (IOException | RuntimeException e) {
        // A broken pipe: the worker is dead or dying; the reader reports how.
        if (!closing) {
          LOG.debug("{}: write failed", name, e);
        }
        process.destroy();
        if (p.id < 0 || dying.get()) {
          pending.failUnlessTaken(p, notRunning(p));
        }
        return;
      }
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
            PendingRequest p = pending.answered(e.requestId().getAsLong());
            if (p != null) {
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
        lastReadNanos = lastActivityNanos;
        stats.received(in);
        reported = reported.plus(LmUsage.reportedBy(in));
        dispatch(in);
      }
    } catch (IOException e) {
      failure = e;
    } catch (RuntimeException e) {
      failure = new IOException(e);
    } catch (Error e) {
      // Out of memory decoding a large answer, say: the channel dies of it and its requests fail
      // with it; a reader thread that just ended would leave them waiting for their timeouts.
      failure = new IOException(name + ": reading the worker's answers failed in this JVM: " + e, e);
    }
    if (dying.compareAndSet(false, true)) {
      died(failure);
    }
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
        throw new IOException(name + " reported a broken channel: " + redactor.redact(m.error()));
      }
      PendingRequest p = pending.answered(m.id());
      if (p == null) {
        LOG.warn("{}: answer to unknown request {}", name, m.id());
        return;
      }
      p.answer(m, name, redactor);
      return;
    }
    StreamEvent e = (StreamEvent) in;
    PendingRequest p = e.isLast() ? pending.answered(e.id()) : pending.get(e.id());
    if (p == null || !p.isStream()) {
      LOG.warn("{}: stream event for unknown request {}", name, e.id());
      return;
    }
    p.event(e, name, redactor);
  }

  private void checkDeadlines() {
    long now = System.nanoTime();
    PendingRequest p = pending.overdue(now);
    if (p != null) {
      timedOut = p;
      process.kill(p.describe() + " exceeded its timeout of " + Durations.words(p.timeout));
      return;
    }
    int requests = pending.load() - probes.get();
    // Not while closing: no ping can follow the end of input, and close() has a deadline of its own.
    switch (stallWatch.tick(now, lastReadNanos, requests > 0 && isRunning())) {
      case PING:
        probe();
        break;
      case STALLED:
        stalled = true;
        process.kill("it answered no ping for " + Durations.words(stallWatch.timeout()) + " while " + requests
            + (requests == 1 ? " request was" : " requests were") + " in flight (stopped, deadlocked?"
            + " WorkerConfig.withStallTimeout)", true);
        break;
      default:
        break;
    }
  }

  /**
   * Queues a ping for the stall watch, unless the queue is full (the watchdog never waits; the
   * watch's clock runs all the same, and a worker that reads nothing is stalled either way).
   */
  private void probe() {
    PendingRequest ping = PendingRequest.plain(Request.of("ping"), requestTimeout);
    probes.incrementAndGet();
    ping.response.whenComplete((answer, error) -> probes.decrementAndGet());
    if (put(ping, false)) {
      stats.pinged();
    }
  }

  /**
   * Runs on the reader thread when the channel ends: waits for the process's end, fails everything
   * pending or queued saying how it ended, releases the channel, and reports the death.
   */
  private void died(IOException failure) {
    if (watchdog != null) {
      watchdog.cancel(false);
    }
    boolean expected = closing && process.killReason() == null;
    WorkerProcess.End end = process.ended(failure);
    countUnreportedUsage();
    String how = end.how();
    String suffix = end.stderrSuffix();
    Throwable cause = process.safeCause(failure);
    long now = System.nanoTime();
    List<PendingRequest> all = pending.takeAll();
    for (PendingRequest p : all) {
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
        pending.dropped();
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
      death = timedOut != null || stalled
          ? new WorkerTimeoutException(name, how + suffix, cause)
          : new WorkerCrashedException(name, how + (all.isEmpty() ? " while idle" : "") + suffix, cause);
      LOG.warn("{}", death.getMessage());
    } else {
      LOG.info("{} stopped ({})", name, end.exitStatus() == null ? "killed" : ExitStatus.describe(end.exitStatus()));
    }
    terminated.complete(death);
  }

  /** Counts what the ended worker's ledger holds beyond what its answers reported, then deletes it. */
  private void countUnreportedUsage() {
    if (ledger == null) {
      return;
    }
    try {
      UsageLedger.Totals totals = ledger.read();
      LmUsage unreported = totals.paid().beyond(reported);
      if (!unreported.isZero()) {
        stats.unreported(unreported);
        LOG.info("{}: its usage ledger holds {} LM call(s) ({} prompt + {} completion tokens) that no answer of it"
            + " reported{}; counted in lm_calls", name, unreported.calls(), unreported.promptTokens(),
            unreported.completionTokens(),
            totals.inFlight() == 0 ? "" : " (" + totals.inFlight() + " in flight when it ended, tokens unknown)");
      }
    } catch (IOException e) {
      LOG.warn("{}: its usage ledger could not be read, so LM calls it did not report are not counted: {}", name,
          e.getMessage());
    } finally {
      ledger.close();
    }
  }

  /**
   * No new requests; the queued ones are still written, then the worker's input ends (it exits
   * when its requests are answered). Waits at most until {@code deadlineNanos} for room in a full
   * queue, which a hung worker may never make.
   */
  void close(long deadlineNanos) {
    if (closing) {
      return;
    }
    closing = true;
    boolean queued = false;
    while (!queued && !dying.get() && System.nanoTime() < deadlineNanos) {
      try {
        queued = queue.offer(STOP, 50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
