package org.dspex.beam.pipelines.io;

import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;

/**
 * Writes failure rows ({@link FailureRecords#SCHEMA}) as JSONL shard files in the target's
 * temporary folder, which the command joins into the one failures file after the job.
 */
public final class WriteFailures extends PTransform<PCollection<Row>, POutput> {
  private static final long serialVersionUID = 1L;
  private final OutputTarget target;

  /** Writes the shards of {@code target}'s failures file. */
  public WriteFailures(OutputTarget target) {
    this.target = target;
  }

  @Override
  public POutput expand(PCollection<Row> failures) {
    return failures
        .apply("ToJson", ParDo.of(new ToJsonFn()))
        .apply("Write", ShardFiles.write(TextIO.sink(), target.failureShards(), ".jsonl"));
  }

  /** A failure row as its line. */
  static final class ToJsonFn extends DoFn<Row, String> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(@Element Row r, OutputReceiver<String> o) {
      o.output(FailureRecords.toJsonLine(r));
    }
  }
}
