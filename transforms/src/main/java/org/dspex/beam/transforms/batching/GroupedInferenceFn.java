package org.dspex.beam.transforms.batching;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.util.ShardedKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.connector.worker.WorkerException;

/**
 * The batching DoFn for unbounded input: batches come from {@code GroupIntoBatches} (size and a
 * maximum buffering duration, so a slow stream still gets answers within that wait), each one sent
 * as requests of at most {@code maxBatchSize} elements and {@code maxBatchBytes}. Results take the
 * batch's window and timestamp (GroupIntoBatches does not keep per-element timestamps). Same
 * outputs, failures and lifecycle as {@link InferenceFn}.
 */
public final class GroupedInferenceFn extends DoFn<KV<ShardedKey<Integer>, Iterable<Row>>, Row> {
  private static final long serialVersionUID = 1L;

  private final InferenceSpec spec;
  private transient InferenceCore core;

  /** A DoFn running {@code spec}. */
  public GroupedInferenceFn(InferenceSpec spec) {
    this.spec = spec;
  }

  /** Acquires the JVM's pool for this model. */
  @Setup
  public void setup() throws WorkerException {
    core = new InferenceCore(spec);
  }

  /** Runs one batch; every element ends in the output or the failures. */
  @ProcessElement
  public void processElement(@Element KV<ShardedKey<Integer>, Iterable<Row>> batch, MultiOutputReceiver out)
      throws WorkerException, InterruptedException {
    List<Row> inputs = new ArrayList<>();
    List<BatchItem> items = new ArrayList<>();
    List<BatchItem> chunk = new ArrayList<>();
    long chunkBytes = 0;
    for (Row input : batch.getValue()) {
      BatchItem item = core.item(input);
      inputs.add(input);
      items.add(item);
      if (item.done()) {
        continue;
      }
      if (!chunk.isEmpty() && chunkBytes + item.bytes() > spec.maxBatchBytes()) {
        core.run(chunk);
        chunk = new ArrayList<>();
        chunkBytes = 0;
      }
      chunk.add(item);
      chunkBytes += item.bytes();
    }
    if (!chunk.isEmpty()) {
      core.run(chunk);
    }
    for (int i = 0; i < inputs.size(); i++) {
      BatchItem item = items.get(i);
      if (item.ok()) {
        out.get(InferenceFn.OUTPUT).output(core.outputRow(inputs.get(i), item));
      } else {
        out.get(InferenceFn.FAILURES).output(core.failureRow(inputs.get(i), item));
      }
    }
  }

  /** Reports the pool's counters. */
  @FinishBundle
  public void finishBundle() {
    core.reportPool();
  }

  /** Gives the pool back. */
  @Teardown
  public void teardown() {
    if (core != null) {
      core.release();
      core = null;
    }
  }
}
