package org.dspex.beam.connector.worker;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.dspex.beam.connector.protocol.Body;
import org.dspex.beam.connector.protocol.FormatChooser;
import org.dspex.beam.connector.protocol.Incoming;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.Protocol;
import org.dspex.beam.connector.protocol.SentMessage;
import org.dspex.beam.connector.protocol.StreamEvent;

/**
 * Counters of one {@link WorkerPool}, cumulative since it was created, for the transforms to turn
 * into Beam metrics (they report differences between two reads). Thread-safe; never contains a
 * secret (only numbers).
 *
 * <ul>
 *   <li>{@link #requests()}: requests submitted by callers; {@link #failures()} of them failed. The
 *       pool sends each once (the caller decides on retries). Pings are not counted.
 *   <li>{@link #healthPings()}: pings of idle workers.
 *   <li>{@link #workerStarts()}, {@link #workerRestarts()} (starts that replaced a dead, hung or
 *       recycled worker), {@link #workerCrashes()}, {@link #workerTimeouts()}.
 *   <li>{@link #bytesSent(Format)} / {@link #bytesReceived(Format)}: body bytes per format, a body
 *       that travelled as a spill file counted under {@link Format#REF}.
 *   <li>{@link #requestLatency()} (submit to answer, streams to their end), {@link #startLatency()}
 *       (process start to ready, setups included).
 * </ul>
 */
public final class WorkerStats {
  /** Body formats as counted: the four content formats, and REF for spilled bodies. */
  public enum Format {
    JSON,
    MSGPACK,
    ARROW,
    NUMPY,
    REF
  }

  private final LongAdder requests = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final LongAdder workerStarts = new LongAdder();
  private final LongAdder workerRestarts = new LongAdder();
  private final LongAdder workerCrashes = new LongAdder();
  private final LongAdder workerTimeouts = new LongAdder();
  private final LongAdder healthPings = new LongAdder();
  private final Map<Format, LongAdder> sent = adders();
  private final Map<Format, LongAdder> received = adders();
  private final LatencyRecorder requestLatency = new LatencyRecorder();
  private final LatencyRecorder startLatency = new LatencyRecorder();

  /** Fresh counters (a pool makes its own; public for tests and benchmarks of single workers). */
  public WorkerStats() {}

  private static Map<Format, LongAdder> adders() {
    Map<Format, LongAdder> m = new EnumMap<>(Format.class);
    for (Format f : Format.values()) {
      m.put(f, new LongAdder());
    }
    return m;
  }

  /** Requests submitted by callers. */
  public long requests() {
    return requests.sum();
  }

  /** Requests that failed in the end. */
  public long failures() {
    return failures.sum();
  }

  /** Worker processes started and ready. */
  public long workerStarts() {
    return workerStarts.sum();
  }

  /** Starts that replaced a dead, hung or recycled worker. */
  public long workerRestarts() {
    return workerRestarts.sum();
  }

  /** Workers that died unexpectedly (killed for a timeout included). */
  public long workerCrashes() {
    return workerCrashes.sum();
  }

  /** Workers killed because a request exceeded its timeout. */
  public long workerTimeouts() {
    return workerTimeouts.sum();
  }

  /** Health pings sent to idle workers. */
  public long healthPings() {
    return healthPings.sum();
  }

  /** Body bytes sent in {@code format}. */
  public long bytesSent(Format format) {
    return sent.get(format).sum();
  }

  /** Body bytes received in {@code format}. */
  public long bytesReceived(Format format) {
    return received.get(format).sum();
  }

  /** Submit-to-answer latencies. */
  public LatencyRecorder requestLatency() {
    return requestLatency;
  }

  /** Process-start-to-ready latencies. */
  public LatencyRecorder startLatency() {
    return startLatency;
  }

  void request() {
    requests.increment();
  }

  void failure() {
    failures.increment();
  }

  void started(long nanos, boolean restart) {
    workerStarts.increment();
    if (restart) {
      workerRestarts.increment();
    }
    startLatency.recordNanos(nanos);
  }

  void pinged() {
    healthPings.increment();
  }

  void crashed(boolean timeout) {
    workerCrashes.increment();
    if (timeout) {
      workerTimeouts.increment();
    }
  }

  void sent(SentMessage m) {
    for (SentMessage.SentBody b : m.bodies()) {
      Format f = b.placement() == FormatChooser.Placement.REF ? Format.REF : of(b.format());
      sent.get(f).add(b.encodedBytes());
    }
  }

  void received(Incoming in) {
    if (in instanceof Message) {
      count(((Message) in).bodies());
    } else if (in instanceof StreamEvent.Chunk) {
      count(((StreamEvent.Chunk) in).bodies());
    }
  }

  private void count(Iterable<Body> bodies) {
    for (Body b : bodies) {
      received.get(b.viaRef() ? Format.REF : of(b.format())).add(b.encodedBytes());
    }
  }

  private static Format of(Protocol p) {
    switch (p) {
      case MSGPACK:
        return Format.MSGPACK;
      case ARROW:
        return Format.ARROW;
      case NUMPY:
        return Format.NUMPY;
      default:
        return Format.JSON;
    }
  }

  /** Every counter on one line, e.g. for a log at pool shutdown. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("WorkerStats{requests=").append(requests())
        .append(", failures=").append(failures())
        .append(", worker_starts=").append(workerStarts()).append(", worker_restarts=")
        .append(workerRestarts()).append(", worker_crashes=").append(workerCrashes());
    for (Format f : Format.values()) {
      sb.append(", bytes_").append(f.name().toLowerCase()).append("=")
          .append(bytesSent(f) + bytesReceived(f));
    }
    return sb.append("}").toString();
  }
}
