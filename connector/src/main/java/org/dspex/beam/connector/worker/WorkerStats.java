package org.dspex.beam.connector.worker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.protocol.Body;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.protocol.FormatChooser;
import org.dspex.beam.connector.protocol.Incoming;
import org.dspex.beam.connector.protocol.Message;
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
 *   <li>{@link #bytesSent(ContentFormat)} / {@link #bytesReceived(ContentFormat)}: body bytes per
 *       content format; {@link #refBytesSent()} / {@link #refBytesReceived()}: bodies that travelled
 *       as spill files (whatever their format). {@link #bodyBytes(String)} gives each counter by
 *       its metric name ({@link #BODY_BYTE_COUNTERS}).
 *   <li>{@link #requestLatency()} (submit to answer, streams to their end), {@link #startLatency()}
 *       (process start to ready, setups included).
 *   <li>{@link #unreportedLmCalls()}, {@link #unreportedPromptTokens()}, {@link
 *       #unreportedCompletionTokens()}: LM usage that workers' usage ledgers hold and that none of
 *       their answers reported, counted as each worker ends (a worker that died before sending the
 *       chunks of calls it had paid for, or with calls in flight; see {@code UsageLedger}).
 * </ul>
 */
public final class WorkerStats {
  /**
   * The names of the body-byte counters (DESIGN.md section 2): {@code bytes_<format>} for each
   * content format of the registry, then {@code bytes_ref} for bodies that travelled as spill files.
   */
  public static final List<String> BODY_BYTE_COUNTERS;

  private static final String REF_COUNTER = "bytes_" + FormatChoice.REF.wireName();

  static {
    List<String> names = new ArrayList<>();
    for (ContentFormat f : ContentFormat.values()) {
      names.add(f.metricName());
    }
    names.add(REF_COUNTER);
    BODY_BYTE_COUNTERS = Collections.unmodifiableList(names);
  }

  private final LongAdder requests = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final LongAdder workerStarts = new LongAdder();
  private final LongAdder workerRestarts = new LongAdder();
  private final LongAdder workerCrashes = new LongAdder();
  private final LongAdder workerTimeouts = new LongAdder();
  private final LongAdder healthPings = new LongAdder();
  private final Map<String, LongAdder> sent = adders();
  private final Map<String, LongAdder> received = adders();
  private final LongAdder unreportedLmCalls = new LongAdder();
  private final LongAdder unreportedPromptTokens = new LongAdder();
  private final LongAdder unreportedCompletionTokens = new LongAdder();
  private final LatencyRecorder requestLatency = new LatencyRecorder();
  private final LatencyRecorder startLatency = new LatencyRecorder();

  /** Fresh counters (a pool makes its own; public for tests and benchmarks of single workers). */
  public WorkerStats() {}

  private static Map<String, LongAdder> adders() {
    Map<String, LongAdder> m = new LinkedHashMap<>();
    for (String name : BODY_BYTE_COUNTERS) {
      m.put(name, new LongAdder());
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

  /** Body bytes sent in {@code format}, in frames or inline (spilled ones are {@link #refBytesSent()}). */
  public long bytesSent(ContentFormat format) {
    return sent.get(format.metricName()).sum();
  }

  /** Body bytes received in {@code format}, in frames or inline. */
  public long bytesReceived(ContentFormat format) {
    return received.get(format.metricName()).sum();
  }

  /** Body bytes sent as spill files. */
  public long refBytesSent() {
    return sent.get(REF_COUNTER).sum();
  }

  /** Body bytes received as spill files. */
  public long refBytesReceived() {
    return received.get(REF_COUNTER).sum();
  }

  /**
   * Body bytes both ways under one of the {@link #BODY_BYTE_COUNTERS}, e.g. {@code bytes_arrow}.
   *
   * @throws IllegalArgumentException for another name
   */
  public long bodyBytes(String counter) {
    LongAdder s = sent.get(counter);
    if (s == null) {
      throw new IllegalArgumentException("no body-byte counter '" + counter + "'; known: " + BODY_BYTE_COUNTERS);
    }
    return s.sum() + received.get(counter).sum();
  }

  /** LM calls that workers made (per their usage ledgers) and that none of their answers reported. */
  public long unreportedLmCalls() {
    return unreportedLmCalls.sum();
  }

  /** Prompt tokens of the {@link #unreportedLmCalls()} (a call in flight when its worker died has none known). */
  public long unreportedPromptTokens() {
    return unreportedPromptTokens.sum();
  }

  /** Completion tokens of the {@link #unreportedLmCalls()}. */
  public long unreportedCompletionTokens() {
    return unreportedCompletionTokens.sum();
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

  void unreported(LmUsage usage) {
    unreportedLmCalls.add(usage.calls());
    unreportedPromptTokens.add(usage.promptTokens());
    unreportedCompletionTokens.add(usage.completionTokens());
  }

  void sent(SentMessage m) {
    for (SentMessage.SentBody b : m.bodies()) {
      String counter = b.placement() == FormatChooser.Placement.REF ? REF_COUNTER : b.format().metricName();
      sent.get(counter).add(b.encodedBytes());
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
      received.get(b.viaRef() ? REF_COUNTER : b.format().metricName()).add(b.encodedBytes());
    }
  }

  /** Every counter on one line, e.g. for a log at pool shutdown. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("WorkerStats{requests=").append(requests())
        .append(", failures=").append(failures())
        .append(", worker_starts=").append(workerStarts()).append(", worker_restarts=")
        .append(workerRestarts()).append(", worker_crashes=").append(workerCrashes())
        .append(", unreported_lm_calls=").append(unreportedLmCalls());
    for (String counter : BODY_BYTE_COUNTERS) {
      sb.append(", ").append(counter).append("=").append(bodyBytes(counter));
    }
    return sb.append("}").toString();
  }
}
