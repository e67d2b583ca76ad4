package org.dspex.beam.connector.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.dspex.beam.connector.codec.CodecException;
import org.dspex.beam.connector.codec.Codecs;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.EncodingException;
import org.dspex.beam.connector.codec.JsonCodec;

/**
 * Writes messages ({@code docs/protocol.md} sections 2 and 5): builds the header with the keys in
 * the specification's order, chooses each body's format and placement ({@link FormatChooser}),
 * inlines JSON bodies, spills REF bodies, and writes the header and body frames contiguously.
 *
 * <p>Everything is encoded (and spilled) before the first frame is written, so an {@code
 * EncodingError} (a {@link PayloadException} around the codec's {@link EncodingException}), a
 * {@link FrameTooLongException} or an {@link UnsupportedByPeerException} leaves the channel
 * untouched. The header goes as JSON unless it holds a value JSON cannot carry
 * (NaN, infinity, bytes), then as MessagePack.
 *
 * <p>On a V1 connection (the writer's {@link FrameWriter#version()}) there are no body frames: every
 * body must go inline as JSON and streams cannot be asked for; anything else is refused naming the
 * peer.
 *
 * <p>Thread-safe: several threads may write; each message's frames stay together.
 */
public final class MessageWriter {
  private final FrameWriter frames;
  private final Codecs codecs;
  private final FormatChooser chooser;
  private final SpillDirectory spill;
  private final String peer;
  private final Clock clock;
  private volatile boolean peerAcceptsRefs;

  /**
   * A writer of messages onto {@code frames}.
   *
   * @param spill where REF bodies are written, or {@code null} for none
   * @param peer names the other side in errors
   */
  public MessageWriter(
      FrameWriter frames, Codecs codecs, ProtocolSettings settings, SpillDirectory spill, String peer) {
    this(frames, codecs, settings, spill, peer, Clock.systemUTC());
  }

  /** As above, with the clock that stamps headers. */
  public MessageWriter(
      FrameWriter frames,
      Codecs codecs,
      ProtocolSettings settings,
      SpillDirectory spill,
      String peer,
      Clock clock) {
    this.frames = Checks.checkNotNull(frames, "frames");
    this.codecs = Checks.checkNotNull(codecs, "codecs");
    this.chooser = new FormatChooser(Checks.checkNotNull(settings, "settings"));
    this.spill = spill;
    this.peer = peer;
    this.clock = Checks.checkNotNull(clock, "clock");
    this.peerAcceptsRefs = spill != null;
  }

  /** The frame writer underneath (its version decides V1 or V2). */
  public FrameWriter frames() {
    return frames;
  }

  /** Whether bodies may be spilled: there is a spill directory and the peer can read REFs. */
  public boolean canSpill() {
    return spill != null && peerAcceptsRefs && frames.version() == ProtocolVersion.V2;
  }

  /** Tells the writer whether the peer can resolve REF frames (from its {@code hello} capabilities). */
  public void setPeerAcceptsRefs(boolean accepts) {
    this.peerAcceptsRefs = accepts;
  }

  /**
   * Writes a request: header {@code {id, command, args, timestamp, body?}} and its body frames, then
   * flushes.
   *
   * @throws PayloadException {@code EncodingError}, when a body or argument cannot be carried by its
   *     format
   * @throws FrameTooLongException when a body or the header is too large (see {@link FormatChooser})
   * @throws UnsupportedByPeerException on V1, for what V1 cannot carry
   */
  public SentMessage writeRequest(long id, Request request) throws IOException {
    if (frames.version() == ProtocolVersion.V1 && request.stream()) {
      throw new UnsupportedByPeerException(
          String.format(
              "%s speaks protocol v1, which has no streams; command '%s' asks for one",
              peer, request.command()));
    }
    Prepared prepared = prepare(request.bodies(), request.args(), "args");
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("id", id);
    header.put("command", request.command());
    header.put("args", prepared.inlined);
    header.put("timestamp", Timestamps.now(clock));
    if (!prepared.listed.isEmpty()) {
      header.put("body", prepared.listed);
    }
    return write(id, header, prepared);
  }

  /**
   * Writes a successful response {@code {id, success: true, result, timestamp, body?}}; JSON bodies
   * go inline into {@code result}, which must then be a map (or {@code null}).
   */
  @SuppressWarnings("unchecked")
  public SentMessage writeResponse(long id, Object result, List<OutgoingBody> bodies) throws IOException {
    Prepared prepared;
    Object resultValue = result;
    if (result == null || result instanceof Map) {
      Map<String, Object> r = result == null ? new LinkedHashMap<>() : (Map<String, Object>) result;
      prepared = prepare(bodies, r, "result");
      resultValue = result == null && prepared.inlined.isEmpty() ? null : prepared.inlined;
    } else {
      prepared = prepare(bodies, Map.of(), "result");
      if (!prepared.inlined.isEmpty()) {
        throw new IllegalArgumentException("inline bodies need a map result, got " + result.getClass().getName());
      }
    }
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("id", id);
    header.put("success", true);
    header.put("result", resultValue);
    header.put("timestamp", Timestamps.now(clock));
    if (!prepared.listed.isEmpty()) {
      header.put("body", prepared.listed);
    }
    return write(id, header, prepared);
  }

  /** Writes a failed response {@code {id, success: false, error, timestamp}}. */
  public SentMessage writeErrorResponse(long id, RemoteError error) throws IOException {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("id", id);
    header.put("success", false);
    header.put("error", error.toMap());
    header.put("timestamp", Timestamps.now(clock));
    return write(id, header, prepare(List.of(), Map.of(), "result"));
  }

  /** Bodies encoded and placed, ready to write. */
  private static final class Prepared {
    final Map<String, Object> inlined;
    final List<Map<String, Object>> listed = new ArrayList<>();
    final List<Frame> bodyFrames = new ArrayList<>();
    final List<SentMessage.SentBody> sent = new ArrayList<>();
    final List<String> refFiles = new ArrayList<>();

    Prepared(Map<String, Object> base) {
      this.inlined = new LinkedHashMap<>(base);
    }
  }

  private Prepared prepare(List<OutgoingBody> bodies, Map<String, Object> base, String where)
      throws IOException {
    Prepared p = new Prepared(base);
    Set<String> names = new HashSet<>();
    try {
      for (OutgoingBody b : bodies) {
        Checks.checkArgument(names.add(b.name()), "body '%s' appears twice", b.name());
        Checks.checkArgument(
            !base.containsKey(b.name()), "body '%s' collides with the %s key of that name", b.name(), where);
        if (frames.version() == ProtocolVersion.V1) {
          prepareV1(b, p, where);
        } else {
          prepareV2(b, p, where);
        }
      }
      return p;
    } catch (IOException e) {
      throw abandon(p, e);
    } catch (StackOverflowError | OutOfMemoryError e) {
      throw abandon(p, notEncodable(e));
    } catch (RuntimeException e) {
      deleteSpilled(p);
      throw e;
    }
  }

  /**
   * A value too deep for the stack or too large for the heap, met before a byte was written: the
   * message fails as any value a format cannot carry does, and the channel stays usable.
   */
  private static EncodingException notEncodable(VirtualMachineError e) {
    return new EncodingException("the message could not be encoded in this JVM (" + e
        + "): a value nested too deep, or too large for the heap", e);
  }

  private void prepareV1(OutgoingBody b, Prepared p, String where) throws IOException {
    if (!b.format().isAuto() && b.format().forcedFormat() != ContentFormat.JSON) {
      throw new UnsupportedByPeerException(
          String.format(
              "%s speaks protocol v1 (JSON only, bodies inline); body '%s' is forced to %s",
              peer, b.name(), b.format().wireName()));
    }
    if (!JsonCodec.canEncode(b.value())) {
      throw new UnsupportedByPeerException(
          String.format(
              "%s speaks protocol v1 (JSON only, bodies inline); body '%s' (%s) cannot go as JSON"
                  + " (NaN, infinity, bytes or a numeric array)",
              peer, b.name(), describe(b.value())));
    }
    ByteBuffer encoded = codecs.json().encode(b.value(), where + "." + b.name());
    p.inlined.put(b.name(), b.value());
    p.sent.add(new SentMessage.SentBody(b.name(), ContentFormat.JSON, FormatChooser.Placement.INLINE, encoded.remaining()));
  }

  private void prepareV2(OutgoingBody b, Prepared p, String where) throws IOException {
    ContentFormat content = chooser.contentFormat(b.value(), b.format());
    // A body that would go inline is named by its place in the header (args.inputs[3].score).
    String name =
        FormatChooser.unspilled(content) == FormatChooser.Placement.INLINE ? where + "." + b.name() : b.name();
    ByteBuffer encoded = codecs.forFormat(content).encode(b.value(), name);
    FormatChooser.Placement placement =
        chooser.placement(b.name(), b.format(), content, encoded.remaining(), canSpill());
    switch (placement) {
      case INLINE:
        p.inlined.put(b.name(), b.value());
        break;
      case FRAME:
        p.listed.add(listing(b.name(), content));
        p.bodyFrames.add(new Frame(FrameType.of(content), encoded));
        break;
      case REF:
        {
          RefPointer ref = spill.write(content, encoded);
          p.refFiles.add(ref.path());
          p.listed.add(listing(b.name(), content));
          p.bodyFrames.add(new Frame(FrameType.REF, codecs.msgpack().encode(ref.toMap())));
          break;
        }
      default:
        throw new IllegalStateException(placement.toString());
    }
    p.sent.add(new SentMessage.SentBody(b.name(), content, placement, encoded.remaining()));
  }

  private static Map<String, Object> listing(String name, ContentFormat format) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("format", format.wireName());
    return m;
  }

  private SentMessage write(long id, Map<String, Object> header, Prepared p) throws IOException {
    boolean writing = false;
    try {
      ContentFormat headerFormat;
      ByteBuffer headerBytes;
      if (JsonCodec.canEncode(header)) {
        headerFormat = ContentFormat.JSON;
        headerBytes = codecs.json().encode(header);
      } else if (frames.version() == ProtocolVersion.V1) {
        try {
          codecs.json().encode(header);
        } catch (EncodingException e) {
          throw new UnsupportedByPeerException(
              peer + " speaks protocol v1 (JSON only); " + e.getMessage(), e);
        }
        throw new IllegalStateException("header not JSON-safe yet encodable: " + header.keySet());
      } else {
        headerFormat = ContentFormat.MSGPACK;
        headerBytes = codecs.msgpack().encode(header);
      }
      synchronized (frames) {
        frames.checkWritable(FrameType.of(headerFormat), headerBytes.remaining());
        for (Frame f : p.bodyFrames) {
          frames.checkWritable(f.type(), f.length());
        }
        writing = true;
        frames.write(FrameType.of(headerFormat), headerBytes);
        for (Frame f : p.bodyFrames) {
          frames.write(f);
        }
        frames.flush();
      }
      return new SentMessage(id, headerFormat, headerBytes.remaining(), List.copyOf(p.sent), List.copyOf(p.refFiles));
    } catch (IOException e) {
      throw abandon(p, e);
    } catch (StackOverflowError | OutOfMemoryError e) {
      if (!writing) {
        throw abandon(p, notEncodable(e));
      }
      deleteSpilled(p);
      throw e;
    } catch (RuntimeException e) {
      deleteSpilled(p);
      throw e;
    }
  }

  /**
   * Deletes what was spilled for a message that is not sent, and returns its error naming the peer:
   * a codec error wrapped with the protocol's context.
   */
  private IOException abandon(Prepared p, IOException e) {
    deleteSpilled(p);
    if (e instanceof CodecException) {
      return ProtocolException.fromPeer(peer, new PayloadException((CodecException) e));
    }
    return e instanceof ProtocolException ? ProtocolException.fromPeer(peer, (ProtocolException) e) : e;
  }

  private void deleteSpilled(Prepared p) {
    for (String f : p.refFiles) {
      spill.delete(f);
    }
  }

  private static String describe(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof List) {
      return "a list of " + ((List<?>) v).size();
    }
    return v.getClass().getSimpleName();
  }
}
