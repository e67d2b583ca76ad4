package org.dspex.beam.transforms.batching;

import java.util.List;

/**
 * Where a {@link ModelClient} reports what a worker answered for a request, by index into that
 * request, as answers arrive (possibly on a callback thread).
 */
public interface BatchSink {
  /** Element {@code index} succeeded with these output values (output-schema order, Beam-typed). */
  void ok(int index, List<Object> values);

  /** Element {@code index} failed on the worker (or its answer did not fit the schema). */
  void failed(int index, String type, String message);

  /**
   * The worker ({@code worker 3 (pid 1234)}) that serves the request, reported before its answers
   * when the client knows it: failures reported after it name that worker.
   */
  default void worker(String name) {}

  /** LM usage reported with a chunk or response. */
  void usage(long promptTokens, long completionTokens, long calls);
}
