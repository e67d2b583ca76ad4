package org.dspex.beam.connector.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.CodecException;
import org.dspex.beam.connector.codec.Codecs;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.FirstBytes;

/**
 * Reads whole messages and stream events ({@code docs/protocol.md} sections 2, 4 and 6): a header
 * frame with the body frames it lists, or a stream frame (a chunk with its body frames), decoded,
 * with REF bodies resolved and mapped.
 *
 * <p>Frames out of place are {@link UnexpectedFrameException}: a body frame where a header or
 * stream frame was expected, a stream frame among a message's bodies, a body frame of another
 * format than listed, or the stream ending before every listed body came. The reader reads all of a
 * message's frames before decoding its bodies, so a {@code CorruptedPayload} ({@link
 * PayloadException}) or {@code Ref*} error in a body leaves the channel in step: it carries the
 * request id ({@link ProtocolException#requestId()}) and only that request fails.
 *
 * <p>REF files received in a response or chunk are handed over (section 4): with {@code
 * deleteReceivedRefs} the reader deletes each one once decoded (its mapping stays valid). A legacy
 * V1 {@code error} string is normalised to {@code {type: "RemoteError", message}}.
 *
 * <p>One thread reads; the frame version may be switched from another between reads.
 */
public final class MessageReader {
  private final FrameReader frames;
  private final Codecs codecs;
  private final RefResolver refs;
  private final boolean deleteReceivedRefs;

  /**
   * A reader of messages from {@code frames}.
   *
   * @param refs resolves REF frames, or {@code null} when there is no spill directory (a REF is then
   *     {@link RefOutsideSpillDirException})
   * @param deleteReceivedRefs whether to delete a REF file once its body is decoded (the client does,
   *     for files handed over in responses; never for files that are not ours to delete)
   */
  public MessageReader(FrameReader frames, Codecs codecs, RefResolver refs, boolean deleteReceivedRefs) {
    this.frames = Checks.checkNotNull(frames, "frames");
    this.codecs = Checks.checkNotNull(codecs, "codecs");
    this.refs = refs;
    this.deleteReceivedRefs = deleteReceivedRefs;
  }

  /** The frame reader underneath (its version decides V1 or V2). */
  public FrameReader frames() {
    return frames;
  }

  /**
   * Reads the next message or stream event, or returns {@code null} when the stream ends cleanly
   * between messages.
   */
  public Incoming read() throws IOException {
    Frame f = frames.read();
    if (f == null) {
      return null;
    }
    try {
      FrameType type = f.type();
      if (type.isHeader()) {
        return readMessage(f);
      }
      if (type == FrameType.STREAM_START) {
        Map<String, Object> m = streamMap(f);
        return new StreamEvent.Start(streamId(m, f), longOr(m, "n", f), m);
      }
      if (type == FrameType.STREAM_CHUNK) {
        try {
          return readChunk(f);
        } catch (ProtocolException e) {
          // Every frame of the chunk was read: the stream goes on, only this chunk is lost.
          if (e.requestId().isPresent()) {
            e.attachStreamChunk(e.requestId().getAsLong());
          }
          throw e;
        }
      }
      if (type == FrameType.STREAM_END) {
        Map<String, Object> m = streamMap(f);
        Object failed = m.get("failed");
        long failedCount =
            failed instanceof List ? ((List<?>) failed).size() : failed instanceof Long ? (Long) failed : 0;
        return new StreamEvent.End(streamId(m, f), longOr(m, "ok", f), failedCount, mapOr(m, "usage"), m);
      }
      if (type == FrameType.STREAM_ERROR) {
        Map<String, Object> m = streamMap(f);
        return new StreamEvent.Error(streamId(m, f), RemoteError.fromWire(m.get("error")), m);
      }
      throw new UnexpectedFrameException(
          String.format(
              "a %s body frame where a header or stream frame was expected; first bytes: %s",
              type, FirstBytes.render(f.payload())));
    } catch (ProtocolException e) {
      throw ProtocolException.fromPeer(frames.peer(), e);
    } catch (CodecException e) {
      // A header or stream map that does not decode: no request to confine it to.
      throw ProtocolException.fromPeer(frames.peer(), new PayloadException(e));
    }
  }

  private Message readMessage(Frame headerFrame) throws IOException {
    Map<String, Object> header = decodeMap(headerFrame);
    Object error = header.get("error");
    if (error != null && !(error instanceof Map)) {
      header.put("error", RemoteError.fromWire(error).toMap());
    }
    List<BodySpec> specs = bodySpecs(header, headerFrame);
    if (!specs.isEmpty() && frames.version() == ProtocolVersion.V1) {
      throw PayloadException.corrupted(
          "a v1 message lists body frames, which v1 does not have; first bytes: "
              + FirstBytes.render(headerFrame.payload()));
    }
    Object id = header.get("id");
    String what = "message " + (id == null ? "without id" : "id " + id);
    List<Frame> bodyFrames = readBodyFrames(specs, what);
    List<Body> bodies = decodeBodies(specs, bodyFrames, id instanceof Long ? (Long) id : null);
    return new Message(header, bodies);
  }

  private StreamEvent.Chunk readChunk(Frame f) throws IOException {
    Map<String, Object> m = streamMap(f);
    long id = streamId(m, f);
    List<BodySpec> specs = bodySpecs(m, f);
    List<Frame> bodyFrames = readBodyFrames(specs, "stream chunk of id " + id);
    List<Body> bodies = decodeBodies(specs, bodyFrames, id);
    List<Long> indexes = new ArrayList<>();
    Object ix = m.get("indexes");
    if (ix instanceof List) {
      for (Object o : (List<?>) ix) {
        if (!(o instanceof Long)) {
          throw corrupted(f, "stream chunk index " + o + " is not an integer", id);
        }
        indexes.add((Long) o);
      }
    } else if (ix != null) {
      throw corrupted(f, "stream chunk 'indexes' is not a list", id);
    }
    List<ElementFailure> failed;
    try {
      failed = ElementFailure.listFromWire(m.get("failed"));
    } catch (IllegalArgumentException e) {
      throw corrupted(f, "stream chunk: " + e.getMessage(), id);
    }
    return new StreamEvent.Chunk(id, List.copyOf(indexes), List.copyOf(failed), mapOr(m, "usage"), bodies, m);
  }

  /** A body as the header lists it. */
  private record BodySpec(String name, ContentFormat format) {}

  private List<BodySpec> bodySpecs(Map<String, Object> header, Frame headerFrame) throws PayloadException {
    Object body = header.get("body");
    List<BodySpec> specs = new ArrayList<>();
    if (body == null) {
      return specs;
    }
    if (!(body instanceof List)) {
      throw PayloadException.corrupted(
          "'body' is not a list; first bytes: " + FirstBytes.render(headerFrame.payload()));
    }
    for (Object o : (List<?>) body) {
      Object name = o instanceof Map ? ((Map<?, ?>) o).get("name") : null;
      Object format = o instanceof Map ? ((Map<?, ?>) o).get("format") : null;
      ContentFormat p = format instanceof String ? ContentFormat.ofWireName((String) format) : null;
      if (!(name instanceof String) || p == null) {
        throw PayloadException.corrupted(
            "'body' entry " + o + " is not {name, format} with format " + ContentFormat.wireNamesInProse()
                + "; first bytes: " + FirstBytes.render(headerFrame.payload()));
      }
      specs.add(new BodySpec((String) name, p));
    }
    return specs;
  }

  private List<Frame> readBodyFrames(List<BodySpec> specs, String what) throws IOException {
    List<Frame> out = new ArrayList<>(specs.size());
    for (int i = 0; i < specs.size(); i++) {
      BodySpec spec = specs.get(i);
      Frame f = frames.read();
      if (f == null) {
        throw new UnexpectedFrameException(
            String.format(
                "stream ended after %d of %d body frames of %s", i, specs.size(), what));
      }
      if (f.type() != FrameType.of(spec.format()) && f.type() != FrameType.REF) {
        throw new UnexpectedFrameException(
            String.format(
                "a %s frame where body '%s' (%s) of %s was expected; first bytes: %s",
                f.type(), spec.name(), spec.format().wireName(), what, FirstBytes.render(f.payload())));
      }
      out.add(f);
    }
    return out;
  }

  private List<Body> decodeBodies(List<BodySpec> specs, List<Frame> bodyFrames, Long id) throws IOException {
    List<Body> bodies = new ArrayList<>(specs.size());
    for (int i = 0; i < specs.size(); i++) {
      try {
        bodies.add(decodeBody(specs.get(i), bodyFrames.get(i)));
      } catch (ProtocolException | CodecException e) {
        ProtocolException error =
            e instanceof CodecException ? new PayloadException((CodecException) e) : (ProtocolException) e;
        if (id != null) {
          error.attachRequestId(id);
        }
        throw error;
      }
    }
    return bodies;
  }

  private Body decodeBody(BodySpec spec, Frame f) throws IOException {
    if (f.type() != FrameType.REF) {
      return new Body(spec.name(), spec.format(), codecs.forFormat(spec.format()).decode(f.payload()), null, f.length());
    }
    RefPointer ref = RefPointer.fromMap(codecs.msgpack().decodeMap(f.payload()), f.payload());
    if (ref.format() != spec.format()) {
      throw PayloadException.corrupted(
          String.format(
              "REF for body '%s' has format %s, the header lists %s; first bytes: %s",
              spec.name(), ref.format().wireName(), spec.format().wireName(), FirstBytes.render(f.payload())));
    }
    if (refs == null) {
      throw new RefOutsideSpillDirException(
          "REF '" + ref.path() + "' received, but this side has no spill directory");
    }
    Path file = refs.validate(ref);
    try {
      ByteBuffer mapped = refs.map(ref, file);
      Object value = codecs.forFormat(ref.format()).decode(mapped);
      return new Body(spec.name(), spec.format(), value, ref, ref.length());
    } finally {
      if (deleteReceivedRefs) {
        Files.deleteIfExists(file);
      }
    }
  }

  private Map<String, Object> decodeMap(Frame f) throws CodecException {
    Map<String, Object> m = codecs.forFormat(f.type().contentFormat()).decodeMap(f.payload());
    return m instanceof LinkedHashMap ? m : new LinkedHashMap<>(m);
  }

  private Map<String, Object> streamMap(Frame f) throws CodecException {
    return codecs.msgpack().decodeMap(f.payload());
  }

  private static long streamId(Map<String, Object> m, Frame f) throws PayloadException {
    Object id = m.get("id");
    if (!(id instanceof Long)) {
      throw PayloadException.corrupted(
          f.type() + " without an integer id; first bytes: " + FirstBytes.render(f.payload()));
    }
    return (Long) id;
  }

  private static long longOr(Map<String, Object> m, String key, Frame f) throws PayloadException {
    Object v = m.get(key);
    if (v == null) {
      return 0;
    }
    if (!(v instanceof Long)) {
      throw corrupted(f, f.type() + " '" + key + "' is not an integer", (Long) m.get("id"));
    }
    return (Long) v;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> mapOr(Map<String, Object> m, String key) {
    Object v = m.get(key);
    return v instanceof Map ? (Map<String, Object>) v : Map.of();
  }

  private static PayloadException corrupted(Frame f, String what, Long id) {
    PayloadException e = PayloadException.corrupted(what + "; first bytes: " + FirstBytes.render(f.payload()));
    if (id != null) {
      e.attachRequestId(id);
    }
    return e;
  }
}
