package org.dspex.beam.transforms.batching;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.connector.worker.WorkerPools;
import org.dspex.beam.transforms.failures.Failures;
import org.joda.time.Instant;

/**
 * The batching DoFn for bounded input: input rows in, output rows ({@link #OUTPUT}: the input
 * fields followed by the model's outputs) and failure rows ({@link #FAILURES}) out, every element
 * in exactly one of the two.
 *
 * <p>Lifecycle: {@code @Setup} acquires the JVM-wide worker pool for the model's configuration
 * ({@link WorkerPools}), {@code @Teardown} releases it. Elements are buffered per bundle up to
 * {@code maxBatchSize} elements or {@code maxBatchBytes}; a full buffer is sent at once, the rest in
 * {@code @FinishBundle}. Up to one batch per worker of the pool plus one are in flight per instance
 * ({@link InferenceCore#batchesInFlight()}): the next batch is filled and sent while the workers
 * still serve the ones before, and one waits queued whenever this thread waits, so no worker sits
 * idle while this thread decodes, emits and batches, even when the runner gives the transform a
 * single thread. Each result keeps its element's window and timestamp: results in the current
 * element's window are emitted when their batch is collected, others in {@code @FinishBundle}.
 * {@link BatchExecutor} does retries and bisection; a fault that is no element's (no worker can start) is
 * rethrown so the runner retries the bundle. Unbounded input goes through {@link GroupedInferenceFn}
 * instead, which bounds the wait.
 */
public final class InferenceFn extends DoFn<Row, Row> {
  private static final long serialVersionUID = 1L;

  /** Output rows. */
  public static final TupleTag<Row> OUTPUT = new TupleTag<Row>("output") {};
  /** Failure rows ({@link Failures#SCHEMA}). */
  public static final TupleTag<Row> FAILURES = new TupleTag<Row>("failures") {};

  private final InferenceSpec spec;

  private transient InferenceCore core;
  private transient List<Pending> buffer;
  private transient long bufferBytes;
  private transient List<Pending> held;
  private transient ArrayDeque<Sent> inFlight;

  /** An element waiting for its batch, then for its emission. */
  private static final class Pending {
    final Row input;
    final BatchItem item;
    final Instant timestamp;
    final BoundedWindow window;

    Pending(Row input, BatchItem item, Instant timestamp, BoundedWindow window) {
      this.input = input;
      this.item = item;
      this.timestamp = timestamp;
      this.window = window;
    }
  }

  /** A batch sent and not yet collected. */
  private static final class Sent {
    final List<Pending> batch;
    final CompletableFuture<Void> done;

    Sent(List<Pending> batch, CompletableFuture<Void> done) {
      this.batch = batch;
      this.done = done;
    }
  }

  /** A DoFn running {@code spec}. */
  public InferenceFn(InferenceSpec spec) {
    this.spec = spec;
  }

  /** Acquires the JVM's pool for this model and reads the model's handle. */
  @Setup
  public void setup() throws WorkerException {
    core = new InferenceCore(spec);
  }

  /** Empties the buffers. */
  @StartBundle
  public void startBundle() {
    buffer = new ArrayList<>();
    bufferBytes = 0;
    held = new ArrayList<>();
    inFlight = new ArrayDeque<>();
  }

  /** Buffers the element, or fails it when too large; sends the buffer once full. */
  @ProcessElement
  public void processElement(@Element Row input, @Timestamp Instant timestamp, BoundedWindow window,
      MultiOutputReceiver out) throws WorkerException, InterruptedException {
    BatchItem item = core.item(input);
    if (item.done()) {
      emit(new Pending(input, item, timestamp, window), out);
      return;
    }
    if (!buffer.isEmpty() && bufferBytes + item.bytes() > spec.maxBatchBytes()) {
      flush(out, window, timestamp);
    }
    buffer.add(new Pending(input, item, timestamp, window));
    bufferBytes += item.bytes();
    if (buffer.size() >= spec.maxBatchSize() || bufferBytes >= spec.maxBatchBytes()) {
      flush(out, window, timestamp);
    }
  }

  /** Sends what is left and emits every result held back, each in its own window. */
  @FinishBundle
  public void finishBundle(FinishBundleContext c) throws WorkerException, InterruptedException {
    if (!buffer.isEmpty()) {
      inFlight.add(send());
    }
    // No worker can serve: the exception fails the bundle, which the runner retries; nothing
    // held is emitted, so a replayed bundle starts clean.
    while (!inFlight.isEmpty()) {
      Sent sent = inFlight.poll();
      core.await(sent.done);
      held.addAll(sent.batch);
    }
    for (Pending p : held) {
      if (p.item.ok()) {
        c.output(OUTPUT, core.outputRow(p.input, p.item), p.timestamp, p.window);
      } else {
        c.output(FAILURES, core.failureRow(p.input, p.item), p.timestamp, p.window);
      }
    }
    held.clear();
    core.reportPool();
  }

  /** Gives the pool back; the last holder in the JVM stops the workers. */
  @Teardown
  public void teardown() {
    if (core != null) {
      core.release();
      core = null;
    }
  }

  /**
   * Sends the buffer, then collects the oldest batches while as many as the core allows are out
   * (this thread then waits with one batch queued behind the workers' ones), and any already done.
   */
  private void flush(MultiOutputReceiver out, BoundedWindow window, Instant timestamp)
      throws WorkerException, InterruptedException {
    inFlight.add(send());
    while (!inFlight.isEmpty() && (inFlight.size() >= core.batchesInFlight() || inFlight.peek().done.isDone())) {
      Sent sent = inFlight.poll();
      core.await(sent.done);
      for (Pending p : sent.batch) {
        // Outputs of ProcessElement land in the current element's window, at or after its timestamp
        // without skew trouble; anything else waits for FinishBundle, which can name the window.
        if (p.window.equals(window) && !p.timestamp.isBefore(timestamp)) {
          emit(p, out);
        } else {
          held.add(p);
        }
      }
    }
  }

  private Sent send() {
    List<Pending> batch = buffer;
    buffer = new ArrayList<>();
    bufferBytes = 0;
    List<BatchItem> items = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      items.add(p.item);
    }
    return new Sent(batch, core.submit(items));
  }

  private void emit(Pending p, MultiOutputReceiver out) {
    if (p.item.ok()) {
      out.get(OUTPUT).outputWithTimestamp(core.outputRow(p.input, p.item), p.timestamp);
    } else {
      out.get(FAILURES).outputWithTimestamp(core.failureRow(p.input, p.item), p.timestamp);
    }
  }
}
