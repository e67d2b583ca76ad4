package org.dspex.beam.transforms.batching;

import java.io.Serializable;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.worker.Exclusivity;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.connector.worker.WorkerPool;

/**
 * How one kind of model is set up and called ({@code predict}, {@code embed}); everything else
 * (batching, retries, bisection, failures, metrics) is generic in {@link InferenceFn}. The shape
 * follows Beam's RunInference model handlers: one place knows the requests and answers of a kind.
 */
public interface ModelClient extends Serializable {
  /**
   * The worker configuration, {@code setup} included, fixed when the pipeline was built; it
   * resolves on the worker machine what depends on that machine (interpreter, thread count).
   */
  WorkerConfig workerConfig();


  /**
   * What is sent for one input row (a record map, or a text); null when the row lacks what the
   * model needs, which fails the element unsent ({@code MissingInput}) with {@link
   * #missingInputMessage}.
   */
  @Nullable
  Object payload(Row input);

  /** Why {@link #payload} was null for a row. */
  default String missingInputMessage() {
    return "the element has no input for the model";
  }

  /** The size of {@code payload} as the batch limits count it (its JSON size). */
  long payloadBytes(Object payload);

  /**
   * Sends {@code payloads} as one request with the model's {@code handle}, reporting to {@code sink}
   * as answers arrive (on the pool's callback threads), and returns at once. {@code exclusivity} is
   * passed on to the pool ({@link Exclusivity#EXCLUSIVE}: sent alone).
   *
   * @return completes when every element was reported; fails with a {@link WorkerException} when
   *     the request failed (elements reported before stay reported)
   */
  CompletableFuture<Void> send(WorkerPool pool, String handle, List<Object> payloads, FormatChoice format,
      BatchSink sink, Exclusivity exclusivity);
}
