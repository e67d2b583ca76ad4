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
 * temporary folder, which the command joins into the one failures file after the job. Several
 * writes may share it, each under its own name: the records that failed at read are written
 * apart from the model's failures, so that no step joins two branches of the reading (Flink's
 * batch translation would make such a join wait until the whole input was read).
 */
public final class WriteFailures extends PTransform<PCollection<Row>, POutput> {
  private static final long serialVersionUID = 1L;
  private final OutputTarget target;
  private final String name;

  /** Writes the shards of {@code target}'s failures file. */
  public WriteFailures(OutputTarget target) {
    this(target, "");
  }

  /** Writes shards of {@code target}'s failures file, as the write {@code name} (a word) of several. */
  public WriteFailures(OutputTarget target, String name) {
    this.target = target;
    this.name = name;
  }

  @Override
  public POutput expand(PCollection<Row> failures) {
    PCollection<String> lines = failures.apply("ToJson", ParDo.of(new ToJsonFn()));
    return lines.apply("Write", name.isEmpty() ? ShardFiles.write(TextIO.sink(), target.failureShards(), ".jsonl")
        : ShardFiles.write(TextIO.sink(), target.failureShards(), ".jsonl", name));
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
