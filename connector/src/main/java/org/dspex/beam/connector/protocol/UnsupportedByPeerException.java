package org.dspex.beam.connector.protocol;

import java.io.IOException;

/**
 * A request the peer cannot take, refused on the client before anything is written: on a V1 peer
 * (a legacy bridge, {@code docs/protocol.md} section 7) a body that cannot go inline as JSON, a
 * forced body format, a REF, or a streaming command. The message names the peer.
 *
 * <p>Not a {@link ProtocolException}: nothing went wrong on the wire; the request asks for more
 * than the peer speaks.
 */
public class UnsupportedByPeerException extends IOException {
  /** An error with a message that names the peer. */
  public UnsupportedByPeerException(String message) {
    super(message);
  }

  /** An error with a message that names the peer, and its cause. */
  public UnsupportedByPeerException(String message, Throwable cause) {
    super(message, cause);
  }
}
