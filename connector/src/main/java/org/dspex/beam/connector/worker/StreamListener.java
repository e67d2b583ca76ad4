package org.dspex.beam.connector.worker;

import org.dspex.beam.connector.protocol.StreamEvent;

/**
 * Receives the events of one streaming request in order ({@code Start}, {@code Chunk}s, then
 * {@code End} or {@code Error}), on a callback thread, never on the worker's reader thread: a slow
 * listener delays only its own stream. A caller that keeps every chunk's results loses, when the
 * worker dies, only the indexes not yet reported. A chunk that cannot be read is skipped: the later
 * chunks still come, and the request's future fails with that chunk's error at the stream's end.
 */
@FunctionalInterface
public interface StreamListener {
  /** One event; an exception thrown here fails the request's future with it. */
  void onEvent(StreamEvent event) throws Exception;

  /**
   * The request was given to the worker named {@code workerName} ({@link PythonWorker#name()}), so
   * a caller can say which worker reported what. Called once, on the submitting thread, before any
   * event; a pool never moves a stream to another worker.
   */
  default void onAssigned(String workerName) {}
}
