package org.dspex.beam.connector.worker;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.ProtocolException;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;

/**
 * One request on its way through a {@link PythonWorker}: queued, written, answered. Its future is
 * completed on a callback thread (through {@link #delivery}), never on the reader thread, and
 * after every stream event has reached the listener.
 */
final class PendingRequest {
  final Request request;
  final Duration timeout;
  final StreamListener listener;
  final CompletableFuture<Message> response;
  final CompletableFuture<StreamEvent.End> streamEnd;
  final SerialExecutor delivery = new SerialExecutor(WorkerThreads.CALLBACKS);
  final long submittedNanos = System.nanoTime();
  volatile long id = -1;
  volatile long deadlineNanos = Long.MAX_VALUE;
  /** The first chunk of this stream that could not be read; the stream fails with it at its end. */
  volatile Exception brokenChunk;

  private PendingRequest(Request request, Duration timeout, StreamListener listener) {
    this.request = request;
    this.timeout = timeout;
    this.listener = listener;
    this.response = listener == null ? new CompletableFuture<>() : null;
    this.streamEnd = listener == null ? null : new CompletableFuture<>();
  }

  static PendingRequest plain(Request request, Duration timeout) {
    return new PendingRequest(request, timeout, null);
  }

  static PendingRequest stream(Request request, Duration timeout, StreamListener listener) {
    return new PendingRequest(request.withStream(true), timeout, listener);
  }

  boolean isStream() {
    return listener != null;
  }

  CompletableFuture<?> future() {
    return listener == null ? response : streamEnd;
  }

  /** Restarts the clock: at write time, and at every stream event. */
  void touch() {
    deadlineNanos = System.nanoTime() + timeout.toNanos();
  }

  /** "request 17 'embed'", or "a queued 'embed' request" before it had an id. */
  String describe() {
    return id < 0 ? "queued request '" + request.command() + "'" : "request " + id + " '" + request.command() + "'";
  }

  /**
   * The response to this request, from {@code worker}: completes a plain request (element failure
   * messages redacted: they come from Python, where an LM client may echo its key), or fails it with
   * the handler's error; a stream answered by a plain success fails as an unexpected frame.
   */
  void answer(Message m, String worker, Redactor redactor) {
    if (!m.success()) {
      fail(new RemoteHandlerException(worker, id, request.command(), redactor.redact(m.error())));
    } else if (isStream()) {
      fail(new ProtocolException(worker + " answered streaming " + describe() + " with a plain response") {
        @Override
        public String errorName() {
          return "UnexpectedFrame";
        }
      });
    } else {
      completeResponse(redactor.redactFailed(m));
    }
  }

  /**
   * An event of this stream, from {@code worker}: delivered to the listener (a chunk's failure
   * messages redacted), the end completing the future, unless the stream failed: a {@code
   * STREAM_ERROR}, or an end after a chunk that could not be read.
   */
  void event(StreamEvent e, String worker, Redactor redactor) {
    touch();
    if (e instanceof StreamEvent.Error) {
      fail(new RemoteHandlerException(worker, id, request.command(), redactor.redact(((StreamEvent.Error) e).error())));
    } else if (e instanceof StreamEvent.End && brokenChunk != null) {
      fail(brokenChunk);
    } else {
      StreamEvent shown = e instanceof StreamEvent.Chunk ? redactor.redact((StreamEvent.Chunk) e) : e;
      deliver(shown);
      if (shown instanceof StreamEvent.End) {
        completeStream((StreamEvent.End) shown);
      }
    }
  }

  void fail(Throwable error) {
    delivery.execute(() -> future().completeExceptionally(error));
  }

  private void completeResponse(Message m) {
    delivery.execute(() -> response.complete(m));
  }

  private void deliver(StreamEvent event) {
    delivery.execute(
        () -> {
          if (streamEnd.isDone()) {
            return;
          }
          try {
            listener.onEvent(event);
          } catch (Exception | Error e) {
            streamEnd.completeExceptionally(e);
          }
        });
  }

  private void completeStream(StreamEvent.End end) {
    delivery.execute(() -> streamEnd.complete(end));
  }
}
