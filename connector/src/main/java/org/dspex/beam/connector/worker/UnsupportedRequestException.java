package org.dspex.beam.connector.worker;

import org.dspex.beam.connector.protocol.UnsupportedByPeerException;

/**
 * The worker cannot take this request, and it was not sent: the worker is a V1 peer ({@link
 * WorkerConfig#withLegacyV1Peers}) and the request asks for a stream, a forced body format or a
 * body that cannot go inline as JSON. Only this request fails; the worker goes on serving. The
 * message, from the {@link UnsupportedByPeerException} that is its cause, says what V1 lacks
 * ({@code worker 3 (pid 1234) speaks protocol v1, which has no streams; ...}). Not retryable: it
 * would be refused again.
 */
public final class UnsupportedRequestException extends WorkerException {
  private static final long serialVersionUID = 1L;

  /** {@code worker} refused to send a request for {@code reason}. */
  public UnsupportedRequestException(String worker, UnsupportedByPeerException reason) {
    super(worker, reason.getMessage(), reason);
  }

  @Override
  public boolean isRetryable() {
    return false;
  }
}
