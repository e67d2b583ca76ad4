package org.dspex.beam.transforms.batching;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.checkerframework.checker.nullness.qual.Nullable;
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
 * rethrown so the runner retries the bundle. With deduplication on, an element whose payload an
 * earlier one of the JVM leads ({@link Deduplication}) is not sent: it is emitted with a copy of
 * the leader's outcome once that is known, at the latest in {@code @FinishBundle}, which sends its
 * own batches before it waits for other bundles' leaders (so two bundles never wait on each other).
 * Unbounded input goes through {@link GroupedInferenceFn} instead, which bounds the wait.
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
  private transient List<Pending> followers;

  /** An element waiting for its batch, then for its emission. */
  private static final class Pending {
    final Row input;
    final BatchItem item;
    final Instant timestamp;
    final BoundedWindow window;
    final Deduplication.@Nullable Claim claim;

    Pending(Row input, BatchItem item, Instant timestamp, BoundedWindow window, Deduplication.@Nullable Claim claim) {
      this.input = input;
      this.item = item;
      this.timestamp = timestamp;
      this.window = window;
      this.claim = claim;
    }

    boolean follows() {
      return claim != null && !claim.leads();
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
    followers = new ArrayList<>();
  }

  /** Buffers the element, or fails it when too large; sends the buffer once full. */
  @ProcessElement
  public void processElement(@Element Row input, @Timestamp Instant timestamp, BoundedWindow window,
      MultiOutputReceiver out) throws WorkerException, InterruptedException {
    BatchItem item = core.item(input);
    if (item.done()) {
      emit(new Pending(input, item, timestamp, window, null), out);
      return;
    }
    Pending pending = new Pending(input, item, timestamp, window, core.claim(item));
    try {
      if (pending.follows()) {
        followers.add(pending);
        emitSettledFollowers(out, window, timestamp);
        return;
      }
      if (!buffer.isEmpty() && bufferBytes + item.bytes() > spec.maxBatchBytes()) {
        flush(out, window, timestamp);
      }
      buffer.add(pending);
      bufferBytes += item.bytes();
      if (buffer.size() >= spec.maxBatchSize() || bufferBytes >= spec.maxBatchBytes()) {
        flush(out, window, timestamp);
      }
    } catch (WorkerException | InterruptedException | RuntimeException e) {
      abandon(e);
      throw e;
    }
  }

  /** Sends what is left and emits every result held back, each in its own window. */
  @FinishBundle
  public void finishBundle(FinishBundleContext c) throws WorkerException, InterruptedException {
    try {
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
      // Only now, with every batch of this bundle sent: a leader may be in another bundle's buffer.
      for (Pending p : followers) {
        Deduplication.copy(core.await(p.claim.outcome()), p.item);
        held.add(p);
      }
      followers.clear();
    } catch (WorkerException | InterruptedException | RuntimeException e) {
      abandon(e);
      throw e;
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
    emitSettledFollowers(out, window, timestamp);
  }

  /** Emits (or holds, like results) the followers whose leaders are settled. */
  private void emitSettledFollowers(MultiOutputReceiver out, BoundedWindow window, Instant timestamp) {
    for (var it = followers.iterator(); it.hasNext(); ) {
      Pending p = it.next();
      CompletableFuture<BatchItem> leader = p.claim.outcome();
      if (!leader.isDone() || leader.isCompletedExceptionally()) {
        continue;
      }
      Deduplication.copy(leader.join(), p.item);
      it.remove();
      if (p.window.equals(window) && !p.timestamp.isBefore(timestamp)) {
        emit(p, out);
      } else {
        held.add(p);
      }
    }
  }

  private Sent send() {
    List<Pending> batch = buffer;
    buffer = new ArrayList<>();
    bufferBytes = 0;
    List<BatchItem> items = new ArrayList<>(batch.size());
    List<Deduplication.Claim> claims = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      items.add(p.item);
      claims.add(p.claim);
    }
    // Settled on the completing thread, so followers in other bundles need not wait for this one.
    CompletableFuture<Void> done = core.submit(items)
        .whenComplete((v, failure) -> core.settle(claims, items, cause(failure)));
    return new Sent(batch, done);
  }

  /**
   * The bundle fails: the leaders it never sent are forgotten (their followers' bundles fail too,
   * and the runner's retries send them again); sent ones settle when their requests end.
   */
  private void abandon(Exception e) {
    List<BatchItem> items = new ArrayList<>();
    List<Deduplication.Claim> claims = new ArrayList<>();
    for (Pending p : buffer) {
      items.add(p.item);
      claims.add(p.claim);
    }
    core.settle(claims, items, e);
    buffer.clear();
  }

  private static @Nullable Throwable cause(@Nullable Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  private void emit(Pending p, MultiOutputReceiver out) {
    if (p.item.ok()) {
      out.get(OUTPUT).outputWithTimestamp(core.outputRow(p.input, p.item), p.timestamp);
    } else {
      out.get(FAILURES).outputWithTimestamp(core.failureRow(p.input, p.item), p.timestamp);
    }
  }
}
