package org.dspex.beam.connector.protocol;

import java.util.List;
import java.util.Map;

/**
 * One frame of a stream ({@code docs/protocol.md} section 6): exactly one {@link Start}, any number
 * of {@link Chunk}s, then one {@link End} or {@link Error}.
 */
public sealed interface StreamEvent extends Incoming
    permits StreamEvent.Start, StreamEvent.Chunk, StreamEvent.End, StreamEvent.Error {

  /** The frame's decoded map, for keys this class does not model. */
  Map<String, Object> header();

  /** Whether this event closes its stream. */
  default boolean isLast() {
    return this instanceof End || this instanceof Error;
  }

  /**
   * {@code STREAM_START}: the stream for request {@code id} begins.
   *
   * @param n how many elements will be reported
   */
  record Start(long id, long n, Map<String, Object> header) implements StreamEvent {}

  /**
   * {@code STREAM_CHUNK} with its body frames: results for {@code indexes} (in that order, in the
   * bodies) and failures.
   */
  record Chunk(
      long id,
      List<Long> indexes,
      List<ElementFailure> failed,
      Map<String, Object> usage,
      List<Body> bodies,
      Map<String, Object> header)
      implements StreamEvent {
    /** The body of that name, or {@code null}. */
    public Object body(String name) {
      for (Body b : bodies) {
        if (b.name().equals(name)) {
          return b.value();
        }
      }
      return null;
    }
  }

  /**
   * {@code STREAM_END}: totals.
   *
   * @param ok elements that succeeded
   * @param failed elements that failed (a count; a list on the wire is counted)
   */
  record End(long id, long ok, long failed, Map<String, Object> usage, Map<String, Object> header)
      implements StreamEvent {}

  /** {@code STREAM_ERROR}: the handler itself broke; elements not yet reported have no result. */
  record Error(long id, RemoteError error, Map<String, Object> header) implements StreamEvent {}
}
