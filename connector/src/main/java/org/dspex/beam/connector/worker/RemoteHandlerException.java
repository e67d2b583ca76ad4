package org.dspex.beam.connector.worker;

import org.dspex.beam.connector.protocol.RemoteError;

/**
 * A handler answered with an error (an error response, or a stream's {@code STREAM_ERROR}): the
 * worker is fine and keeps serving. Carries the Python exception's type, message and traceback
 * (secrets redacted). Not retryable: the handler would raise again.
 */
public final class RemoteHandlerException extends WorkerException {
  private static final long serialVersionUID = 1L;

  private final String type;
  private final String remoteMessage;
  private final String traceback;

  /** The error {@code error} (already redacted) answered by {@code worker} to a request. */
  public RemoteHandlerException(String worker, long requestId, String command, RemoteError error) {
    super(worker,
        worker + " answered request " + requestId + " '" + command + "' with " + error.type() + ": "
            + error.message(),
        null);
    this.type = error.type();
    this.remoteMessage = error.message();
    this.traceback = error.traceback();
  }

  /** The Python exception's class name, e.g. {@code ValueError}. */
  public String type() {
    return type;
  }

  /** The Python exception's message. */
  public String remoteMessage() {
    return remoteMessage;
  }

  /** The Python traceback, or {@code null} if the worker sent none. */
  public String traceback() {
    return traceback;
  }

  @Override
  public boolean isRetryable() {
    return false;
  }
}
