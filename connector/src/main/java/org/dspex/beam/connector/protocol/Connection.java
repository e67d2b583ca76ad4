package org.dspex.beam.connector.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.dspex.beam.connector.codec.Codecs;

/**
 * The client end of one channel to a worker: negotiation ({@code docs/protocol.md} section 7),
 * requests, and what comes back.
 *
 * <p>{@link #hello()} must come first. It offers {@code ["v2", "v1"]} in a V1 frame, with the
 * client version, the spill directory and the {@code AUTO} thresholds; the connection moves to V2
 * only when the worker answers {@code result.protocol == "v2"}. Any other answer, including a
 * legacy bridge's {@code {"success": false, "error": "Unknown command: hello"}}, keeps it on V1:
 * JSON only, bodies inline, no streams; a request that needs more fails here, before it is
 * written, with an {@link UnsupportedByPeerException} naming the peer.
 *
 * <pre>{@code
 * Process p = new ProcessBuilder(python, "-m", "dspex_worker").start();
 * try (SpillDirectory spill = SpillDirectory.create();
 *     Connection c = new Connection(p.getInputStream(), p.getOutputStream(), "worker 1",
 *         ProtocolSettings.defaults(), spill)) {
 *   c.hello();
 *   Message pong = c.call(Request.of("ping"));
 *   for (Incoming event : c.callStream(Request.of("predict").withBody("inputs", records)
 *       .withArg("stream", true).withStream(true))) {
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <h3>Threads</h3>
 *
 * <p>{@link #call} and {@link #callStream} are for one request at a time. To pipeline, one thread
 * calls {@link #send} and another {@link #read}: the two sides share only thread-safe state (ids,
 * REF bookkeeping). Ids are chosen here only; {@link #send(Request, LongConsumer)} tells the
 * caller a request's id before it is written, so the reading side can find it. {@link #writer()} and {@link #reader()} give the layers underneath.
 *
 * <h3>REF files</h3>
 *
 * <p>REF files this connection spills for a request are deleted when its response, stream end or
 * stream error is read (or on {@link #close()}); REF files received are deleted once decoded.
 */
public final class Connection implements AutoCloseable {
  /** The version sent as {@code client_version}. */
  public static final String CLIENT_VERSION = "0.1.0";

  private final String peer;
  private final ProtocolSettings settings;
  private final SpillDirectory spill;
  private final Codecs codecs;
  private final boolean ownsCodecs;
  private final InputStream in;
  private final FrameReader frameReader;
  private final FrameWriter frameWriter;
  private final MessageReader reader;
  private final MessageWriter writer;
  private final AtomicLong nextId = new AtomicLong(1);
  private final Map<Long, Outstanding> outstanding = new ConcurrentHashMap<>();
  private final ConcurrentLinkedDeque<Long> v1Pending = new ConcurrentLinkedDeque<>();
  private volatile ProtocolVersion version = ProtocolVersion.V1;
  private volatile Map<String, Object> helloResult;
  private volatile RemoteError helloError;
  private volatile boolean helloDone;

  /**
   * A connection over a worker's output ({@code in}) and input ({@code out}), with its own codecs.
   *
   * @param peer names the worker in every error, e.g. {@code "worker 3 (pid 1234)"}
   * @param spill the spill directory for REF bodies, or {@code null} for none
   */
  public Connection(
      InputStream in, OutputStream out, String peer, ProtocolSettings settings, SpillDirectory spill)
      throws IOException {
    this(in, out, peer, settings, spill, Codecs.create(), true);
  }

  /** As above, sharing {@code codecs} (which the caller closes). */
  public Connection(
      InputStream in,
      OutputStream out,
      String peer,
      ProtocolSettings settings,
      SpillDirectory spill,
      Codecs codecs)
      throws IOException {
    this(in, out, peer, settings, spill, codecs, false);
  }

  private Connection(
      InputStream in,
      OutputStream out,
      String peer,
      ProtocolSettings settings,
      SpillDirectory spill,
      Codecs codecs,
      boolean ownsCodecs)
      throws IOException {
    this.in = Checks.checkNotNull(in, "in");
    Checks.checkNotNull(out, "out");
    this.peer = peer == null || peer.isEmpty() ? "worker" : peer;
    this.settings = Checks.checkNotNull(settings, "settings");
    this.spill = spill;
    this.codecs = Checks.checkNotNull(codecs, "codecs");
    this.ownsCodecs = ownsCodecs;
    this.frameReader = new FrameReader(in, this.peer, settings.maxFrameBytes());
    this.frameWriter = new FrameWriter(out, this.peer, settings.maxFrameBytes());
    frameReader.setVersion(ProtocolVersion.V1);
    frameWriter.setVersion(ProtocolVersion.V1);
    RefResolver refs = spill == null ? null : spill.resolver(settings.maxRefBytes());
    this.reader = new MessageReader(frameReader, codecs, refs, true);
    this.writer = new MessageWriter(frameWriter, codecs, settings, spill, this.peer);
    writer.setPeerAcceptsRefs(false);
  }

  /**
   * Negotiates the protocol (section 7) and returns the worker's {@code hello} result (empty for a
   * legacy peer). Afterwards {@link #protocolVersion()} tells what was agreed.
   *
   * @throws IllegalStateException when called twice
   * @throws IOException when the channel fails or the answer is not a message
   */
  public Map<String, Object> hello() throws IOException {
    return hello(Map.of());
  }

  /**
   * As {@link #hello()}, with worker arguments added to the hello {@code args} (a worker's id,
   * thread counts, handler modules: see "Worker commands" in {@code docs/protocol.md}); they cannot
   * replace the negotiation keys.
   */
  public Map<String, Object> hello(Map<String, ?> workerArgs) throws IOException {
    Checks.checkNotNull(workerArgs, "workerArgs");
    synchronized (this) {
      if (helloDone) {
        throw new IllegalStateException("hello() was already called on the connection to " + peer);
      }
      helloDone = true;
    }
    Map<String, Object> args = new LinkedHashMap<>();
    args.put("protocols", List.of(ProtocolVersion.V2.wireName(), ProtocolVersion.V1.wireName()));
    args.put("client_version", CLIENT_VERSION);
    if (spill != null) {
      args.put("spill_dir", spill.path().toString());
    }
    args.putAll(settings.toHelloArgs());
    workerArgs.forEach(args::putIfAbsent);
    writer.writeRequest(0, Request.of("hello").withArgs(args));
    Incoming answer = reader.read();
    if (answer == null) {
      throw new EOFException(peer + " closed the channel before answering hello");
    }
    if (!(answer instanceof Message)) {
      throw ProtocolException.fromPeer(
          peer, new UnexpectedFrameException("a stream frame where the hello answer was expected"));
    }
    Message m = (Message) answer;
    Map<String, Object> result = m.success() ? m.resultMap() : Map.of();
    helloError = m.success() ? null : m.error();
    helloResult = Collections.unmodifiableMap(new LinkedHashMap<>(result));
    if (ProtocolVersion.V2.wireName().equals(result.get("protocol"))) {
      version = ProtocolVersion.V2;
      frameReader.setVersion(ProtocolVersion.V2);
      frameWriter.setVersion(ProtocolVersion.V2);
      writer.setPeerAcceptsRefs(spill != null && capabilityFormats(result).contains(FormatChoice.REF.wireName()));
    }
    return helloResult;
  }

  private static List<?> capabilityFormats(Map<String, Object> result) {
    Object caps = result.get("capabilities");
    Object formats = caps instanceof Map ? ((Map<?, ?>) caps).get("formats") : null;
    return formats instanceof List ? (List<?>) formats : List.of();
  }

  /** The agreed protocol: {@link ProtocolVersion#V1} until a V2 {@code hello} answer. */
  public ProtocolVersion protocolVersion() {
    return version;
  }

  /** The worker's {@code hello} result ({@code protocol}, {@code pid}, capabilities, ...), or {@code null} before {@link #hello()}. */
  public Map<String, Object> helloResult() {
    return helloResult;
  }

  /**
   * The error a peer answered {@code hello} with (a legacy bridge's "Unknown command: hello", or a
   * worker refusing its arguments), or {@code null}.
   */
  public RemoteError helloError() {
    return helloError;
  }

  /** The peer's name in errors. */
  public String peer() {
    return peer;
  }

  /** The settings in use. */
  public ProtocolSettings settings() {
    return settings;
  }

  /** Whether bodies can be spilled to REF files on this connection. */
  public boolean canSpill() {
    return writer.canSpill();
  }

  /**
   * Sends a request with the next id (1, 2, 3, ...) and returns what was written.
   *
   * @throws UnsupportedByPeerException on V1, for a body that cannot go inline JSON or a stream
   * @throws ProtocolException {@code EncodingError} or {@code FrameTooLong}, see {@link
   *     MessageWriter#writeRequest}
   */
  public SentMessage send(Request request) throws IOException {
    return send(request, id -> {});
  }

  /**
   * As {@link #send(Request)}, telling {@code assigned} the request's id before the first byte is
   * written: a caller that reads answers on another thread registers the request under that id
   * there, since its answer may be read before this method returns. The connection is the one
   * place ids are chosen. If the request then cannot be written (the exceptions below), it was
   * never sent.
   */
  public SentMessage send(Request request, LongConsumer assigned) throws IOException {
    checkHelloDone();
    Checks.checkNotNull(assigned, "assigned");
    long id = nextId.getAndIncrement();
    // Registered before the first byte is written: on another thread the answer may be read
    // before writeRequest returns.
    Outstanding o = new Outstanding();
    outstanding.put(id, o);
    if (version == ProtocolVersion.V1) {
      v1Pending.addLast(id);
    }
    SentMessage sent;
    try {
      assigned.accept(id);
      sent = writer.writeRequest(id, request);
    } catch (IOException | RuntimeException e) {
      outstanding.remove(id);
      v1Pending.remove(id);
      throw e;
    }
    o.spilled(sent.refFiles());
    return sent;
  }

  /**
   * Reads the next response or stream event, or {@code null} when the worker closed the channel
   * cleanly. A legacy V1 answer without an id gets the id of the oldest unanswered request. A
   * response with id 0 after {@code hello} is the worker reporting a broken channel before it
   * exits ({@code docs/protocol.md} section 8).
   *
   * @throws ProtocolException when the channel breaks (the input is then closed), or for a bad
   *     body of one request (then {@link ProtocolException#requestId()} names it, its REF files are
   *     released, and reading may go on) or of one chunk of an open stream ({@link
   *     ProtocolException#isChunkOfOpenStream()}: the stream's later events still come)
   */
  public Incoming read() throws IOException {
    Incoming next;
    try {
      next = reader.read();
    } catch (ProtocolException e) {
      if (e.isChunkOfOpenStream()) {
        // The stream is still open: its end releases the request's files.
      } else if (e.requestId().isPresent()) {
        releaseSpilled(e.requestId().getAsLong());
      } else {
        // The reader lost its place in the stream (section 8): nothing more can be read from it.
        closeQuietly();
      }
      throw e;
    }
    if (next == null) {
      return null;
    }
    if (next instanceof Message && version == ProtocolVersion.V1) {
      Message m = (Message) next;
      if (m.id() < 0) {
        Long oldest = v1Pending.pollFirst();
        next = oldest == null ? m : m.withId(oldest);
      } else {
        v1Pending.remove(m.id());
      }
    }
    if (next instanceof Message || (next instanceof StreamEvent && ((StreamEvent) next).isLast())) {
      releaseSpilled(next.id());
    }
    return next;
  }

  /**
   * Sends a request and reads its response: for one request at a time.
   *
   * @throws IllegalStateException when something else than this request's response arrives
   */
  public Message call(Request request) throws IOException {
    long id = send(request).id();
    Incoming next = read();
    if (next == null) {
      throw new EOFException(peer + " closed the channel before the response to request " + id);
    }
    if (!(next instanceof Message) || next.id() != id) {
      throw new IllegalStateException(
          "expected the response to request " + id + " from " + peer + ", got " + next
              + "; use send() and read() to pipeline");
    }
    return (Message) next;
  }

  /**
   * Sends a streaming request and reads until its stream ends: the events, last one a {@link
   * StreamEvent.End} or {@link StreamEvent.Error}, or a single {@link Message} when the worker
   * answered with an (error) response instead of a stream. For one request at a time.
   *
   * @throws ProtocolException after the stream's end when one of its chunks could not be read (the
   *     channel is then still in step)
   */
  public List<Incoming> callStream(Request request) throws IOException {
    long id = send(request.withStream(true)).id();
    List<Incoming> events = new ArrayList<>();
    ProtocolException brokenChunk = null;
    while (true) {
      Incoming next;
      try {
        next = read();
      } catch (ProtocolException e) {
        if (!e.isChunkOfOpenStream() || e.requestId().getAsLong() != id) {
          throw e;
        }
        brokenChunk = brokenChunk == null ? e : brokenChunk;
        continue;
      }
      if (next == null) {
        throw new EOFException(peer + " closed the channel inside the stream of request " + id);
      }
      if (next.id() != id) {
        throw new IllegalStateException(
            "expected the stream of request " + id + " from " + peer + ", got " + next);
      }
      events.add(next);
      if (next instanceof Message || ((StreamEvent) next).isLast()) {
        if (brokenChunk != null) {
          throw brokenChunk;
        }
        return events;
      }
    }
  }

  /** The message writer, for a writing thread. */
  public MessageWriter writer() {
    return writer;
  }

  /** The message reader, for a reading thread. */
  public MessageReader reader() {
    return reader;
  }

  /**
   * Marks request {@code id} answered and deletes the REF files spilled for it; {@link #read()}
   * does this for every response, stream end and stream error.
   */
  public void releaseSpilled(long id) {
    Outstanding o = outstanding.remove(id);
    if (o != null) {
      o.answered();
    }
  }

  /** A request not yet answered and the REF files it spilled. */
  private final class Outstanding {
    private List<String> files = List.of();
    private boolean answered;

    synchronized void spilled(List<String> written) {
      files = written;
      if (answered) {
        deleteFiles();
      }
    }

    synchronized void answered() {
      answered = true;
      deleteFiles();
    }

    private void deleteFiles() {
      for (String f : files) {
        spill.delete(f);
      }
      files = List.of();
    }
  }

  private void closeQuietly() {
    try {
      in.close();
    } catch (IOException ignored) {
      // Already failing with the error that matters.
    }
  }

  private void checkHelloDone() {
    if (!helloDone) {
      throw new IllegalStateException("call hello() before sending requests to " + peer);
    }
  }

  /**
   * Closes the channel (the worker sees end of input), deletes this connection's outstanding REF
   * files and releases owned codecs. The spill directory itself belongs to the caller.
   */
  @Override
  public void close() throws IOException {
    IOException failure = null;
    try {
      frameWriter.close();
    } catch (IOException e) {
      failure = e;
    }
    try {
      in.close();
    } catch (IOException e) {
      failure = failure == null ? e : failure;
    }
    for (Long id : new ArrayList<>(outstanding.keySet())) {
      releaseSpilled(id);
    }
    if (ownsCodecs) {
      codecs.close();
    }
    if (failure != null) {
      throw failure;
    }
  }
}
