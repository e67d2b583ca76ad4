package org.dspex.beam.connector.protocol;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;

/**
 * A request or response ({@code docs/protocol.md} section 2): the decoded header and the bodies that
 * came in their own frames.
 *
 * <p>{@link #body(String)} looks a body up as the specification says receivers do: among the body
 * frames first, then inline under that name in {@code args} (a request) or {@code result} (a
 * response). So a caller need not care whether a small batch came inline as JSON or a large one as
 * Arrow:
 *
 * <pre>{@code
 * Message response = connection.call(Request.of("predict").withBody("inputs", records));
 * if (!response.success()) {
 *   throw new IllegalStateException(response.error().toString());
 * }
 * Object outputs = response.body("outputs");   // List<Map<..>> or ArrowTable
 * }</pre>
 */
public final class Message implements Incoming {
  private final Map<String, Object> header;
  private final List<Body> bodies;

  /** A message of a decoded header and its frame bodies (both kept, not copied). */
  public Message(Map<String, Object> header, List<Body> bodies) {
    this.header = Collections.unmodifiableMap(Checks.checkNotNull(header, "header"));
    this.bodies = Collections.unmodifiableList(new ArrayList<>(bodies));
  }

  /** The decoded header, as it came. */
  public Map<String, Object> header() {
    return header;
  }

  @Override
  public long id() {
    Object id = header.get("id");
    return id instanceof Long ? (Long) id : -1;
  }

  /** This message with another id, for a legacy V1 answer that carried none. */
  public Message withId(long id) {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("id", id);
    header.forEach((k, v) -> h.putIfAbsent(k, v));
    return new Message(h, bodies);
  }

  /** Whether this is a response (it has {@code success}) rather than a request. */
  public boolean isResponse() {
    return header.containsKey("success");
  }

  /** A request's command, or {@code null}. */
  public String command() {
    Object c = header.get("command");
    return c instanceof String ? (String) c : null;
  }

  /** A request's {@code args}; empty when absent. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> args() {
    Object a = header.get("args");
    return a instanceof Map ? (Map<String, Object>) a : Map.of();
  }

  /** A response's {@code success}. */
  public boolean success() {
    return Boolean.TRUE.equals(header.get("success"));
  }

  /** A response's {@code result} (any value), or {@code null}. */
  public Object result() {
    return header.get("result");
  }

  /** A response's {@code result} when it is a map, else an empty map. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> resultMap() {
    Object r = header.get("result");
    return r instanceof Map ? (Map<String, Object>) r : Map.of();
  }

  /** A failed response's error, or {@code null} (a legacy plain string is already normalised). */
  public RemoteError error() {
    Object e = header.get("error");
    return e == null ? null : RemoteError.fromWire(e);
  }

  /** The bodies that came in frames (or through REFs), in header order. */
  public List<Body> bodies() {
    return bodies;
  }

  /** The frame body of that name, or {@code null}. */
  public Body frameBody(String name) {
    for (Body b : bodies) {
      if (b.name().equals(name)) {
        return b;
      }
    }
    return null;
  }

  /**
   * The body of that name: a frame body's value, else the value inline in {@code args} (request) or
   * {@code result} (response), else {@code null}.
   */
  public Object body(String name) {
    Body b = frameBody(name);
    if (b != null) {
      return b.value();
    }
    return isResponse() ? resultMap().get(name) : args().get(name);
  }

  /** Whether a body of that name is present, in a frame or inline. */
  public boolean hasBody(String name) {
    return frameBody(name) != null
        || (isResponse() ? resultMap().containsKey(name) : args().containsKey(name));
  }

  /**
   * The content format a body arrived in: its frame's, or {@link ContentFormat#JSON} when inline;
   * {@code null} when absent.
   */
  public ContentFormat bodyFormat(String name) {
    Body b = frameBody(name);
    if (b != null) {
      return b.format();
    }
    return hasBody(name) ? ContentFormat.JSON : null;
  }

  @Override
  public String toString() {
    return "Message" + header + (bodies.isEmpty() ? "" : " + " + bodies.size() + " bodies");
  }
}
