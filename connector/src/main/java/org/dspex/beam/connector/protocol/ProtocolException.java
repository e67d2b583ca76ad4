package org.dspex.beam.connector.protocol;

import java.io.IOException;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Root of the wire-protocol error family ({@code docs/protocol.md} section 8).
 *
 * <p>Each subclass stands for one name of the specification, returned by {@link #errorName()}
 * ({@code FrameTooLong}, {@code CorruptedPayload}, ...): the worker reports the same names in a
 * response's {@code error.type}, so both sides speak of a failure in the same words.
 *
 * <p>Protocol errors are {@link IOException}s because they are failures of the channel or of what
 * came over it, found in the same places (and handled by the same code) as a broken pipe.
 *
 * <h3>Scope of a failure</h3>
 *
 * <p>An error either breaks the channel ({@code FrameTooLong} on a frame, {@code TruncatedFrame},
 * {@code UnknownFrameType}, {@code UnexpectedFrame}: the reader cannot find the next frame, so
 * every pending request fails) or concerns one request only: the reader consumed every frame of
 * that message, so the channel is still in step. The latter carry the request id, see {@link
 * #requestId()}; a caller fails that request and goes on reading.
 *
 * <h3>Messages</h3>
 *
 * <p>The message names the peer when known ({@code worker 3 (pid 1234): frame length ...}) and,
 * for errors found in bytes, the first bytes seen (see {@link
 * org.dspex.beam.connector.codec.FirstBytes}). Codecs do not know the peer: a codec error met in a
 * message reaches callers as a {@link PayloadException} (same name, same message) to which the
 * reader or writer attaches the peer with {@link #attachPeer(String)} and, where it is known, the
 * request.
 */
public abstract class ProtocolException extends IOException {
  private final String detail;
  private volatile String peer;
  private volatile Long requestId;
  private volatile boolean chunkOfOpenStream;

  protected ProtocolException(String detail) {
    this(detail, null);
  }

  protected ProtocolException(String detail, Throwable cause) {
    super(Objects.requireNonNull(detail, "detail"), cause);
    this.detail = detail;
  }

  /** The name of this error in {@code docs/protocol.md} section 8, e.g. {@code "FrameTooLong"}. */
  public abstract String errorName();

  /** The description of the problem, without the peer. */
  public String detail() {
    return detail;
  }

  /** The peer the offending bytes came from (or were meant for), or {@code null} if unknown. */
  public String peer() {
    return peer;
  }

  /**
   * Names the peer in this error's message unless one is named already; returns this error so that
   * a reader can write {@code throw ProtocolException.fromPeer(peer, e)}.
   */
  public ProtocolException attachPeer(String peerName) {
    if (peer == null && peerName != null && !peerName.isEmpty()) {
      peer = peerName;
    }
    return this;
  }

  /**
   * The request (or stream) this error is confined to. Present when the reader consumed every frame
   * of the offending message, so the channel is still usable; empty when the channel is broken or the
   * request is unknown (a header that could not be decoded).
   */
  public OptionalLong requestId() {
    Long id = requestId;
    return id == null ? OptionalLong.empty() : OptionalLong.of(id);
  }

  /** Confines this error to one request, see {@link #requestId()}; returns this error. */
  public ProtocolException attachRequestId(long id) {
    if (requestId == null) {
      requestId = id;
    }
    return this;
  }

  /**
   * Whether the error is confined to one {@code STREAM_CHUNK} of the stream {@link #requestId()}
   * names: the stream is still open, its later chunks and its end still come, and each carries
   * results a caller may keep (docs/protocol.md section 8).
   */
  public boolean isChunkOfOpenStream() {
    return chunkOfOpenStream && requestId != null;
  }

  /**
   * Confines this error to one chunk of the open stream {@code id}, see {@link
   * #isChunkOfOpenStream()}; returns this error.
   */
  public ProtocolException attachStreamChunk(long id) {
    attachRequestId(id);
    chunkOfOpenStream = true;
    return this;
  }

  @Override
  public String getMessage() {
    String p = peer;
    return p == null ? detail : p + ": " + detail;
  }

  /** Typed form of {@link #attachPeer(String)}, for {@code throw fromPeer(peer, new ...)}. */
  public static <E extends ProtocolException> E fromPeer(String peerName, E error) {
    error.attachPeer(peerName);
    return error;
  }
}
