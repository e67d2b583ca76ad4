package org.dspex.beam.transforms;

import java.util.UUID;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.errorhandling.BadRecord;
import org.apache.beam.sdk.transforms.errorhandling.ErrorHandler;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.GroupIntoBatches;
import org.apache.beam.sdk.transforms.WithKeys;
import org.dspex.beam.transforms.batching.GroupedInferenceFn;
import org.dspex.beam.transforms.batching.InferenceFn;
import org.dspex.beam.transforms.batching.InferenceSpec;
import org.dspex.beam.transforms.batching.ModelClient;
import org.dspex.beam.transforms.config.ExecutionSettings;
import org.dspex.beam.transforms.failures.Failures;
import org.dspex.beam.transforms.failures.ToBadRecords;

/** The graph both transforms build once their input is rows: the batching DoFn and failure routing. */
final class Expansion {
  private Expansion() {}

  /** The input schema's fields followed by {@code modelOutputs}; a name in both is refused. */
  static Schema outputSchema(Schema input, Schema modelOutputs, String transform) {
    Schema.Builder b = Schema.builder();
    for (Schema.Field f : input.getFields()) {
      b.addField(f);
    }
    for (Schema.Field f : modelOutputs.getFields()) {
      if (input.hasField(f.getName())) {
        throw new IllegalArgumentException(
            transform + ": output field '" + f.getName() + "' is also an input field; the output row"
                + " carries the input's fields " + input.getFieldNames() + ", so rename one of them");
      }
      b.addField(f);
    }
    return b.build();
  }

  /**
   * What a transform spends and saves per JVM: the token budget (0: none), LM calls admitted per
   * second (0: no limit), and the distinct inputs whose outcomes identical elements copy (0: no
   * deduplication).
   */
  record Cost(long tokenBudget, double callsPerSecond, int dedupCapacity) {
    /** No limits, no deduplication. */
    static final Cost NONE = new Cost(0, 0, 0);
  }

  static DSPexResult apply(PCollection<Row> rows, ModelClient client, Schema modelOutputs,
      ExecutionSettings s, Cost cost, ErrorHandler<BadRecord, ?> badRecords, String transform) {
    Schema out = outputSchema(rows.getSchema(), modelOutputs, transform);
    InferenceSpec spec = InferenceSpec.builder()
        .setClient(client)
        .setOutputSchema(out)
        .setMaxBatchSize(s.maxBatchSize())
        .setMaxBatchBytes(s.maxBatchBytes())
        .setMaxElementBytes(s.maxElementBytes())
        .setMaxAttempts(s.maxAttempts())
        .setFormat(s.format())
        .setCostKey(UUID.randomUUID().toString())
        .setTokenBudget(cost.tokenBudget())
        .setCallsPerSecond(cost.callsPerSecond())
        .setDedupCapacity(cost.dedupCapacity())
        .build();
    TupleTagList failuresTag = TupleTagList.of(InferenceFn.FAILURES);
    PCollectionTuple t;
    if (rows.isBounded() == PCollection.IsBounded.BOUNDED) {
      t = rows.apply("Infer", ParDo.of(new InferenceFn(spec)).withOutputTags(InferenceFn.OUTPUT, failuresTag));
    } else {
      // A stream has no bundle end to flush at in time: GroupIntoBatches bounds the wait, and the
      // sharded key lets the runner spread one logical key over its workers.
      t = rows.apply("Key", WithKeys.<Integer, Row>of(0))
          .setCoder(KvCoder.of(VarIntCoder.of(), rows.getCoder()))
          .apply("Batch", GroupIntoBatches.<Integer, Row>ofSize(s.maxBatchSize())
              .withMaxBufferingDuration(org.joda.time.Duration.millis(s.maxBufferingDuration().toMillis()))
              .withShardedKey())
          .apply("Infer", ParDo.of(new GroupedInferenceFn(spec)).withOutputTags(InferenceFn.OUTPUT, failuresTag));
    }
    PCollection<Row> output = t.get(InferenceFn.OUTPUT).setRowSchema(out);
    PCollection<Row> failures = t.get(InferenceFn.FAILURES).setRowSchema(Failures.SCHEMA);
    return DSPexResult.of(output, routeFailures(failures, badRecords, transform));
  }

  /**
   * What {@link DSPexResult#failures()} holds: {@code failures} as they are, or, with an error
   * handler, an empty collection while the failures go to the handler as Beam {@link BadRecord}s.
   */
  static PCollection<Row> routeFailures(PCollection<Row> failures, ErrorHandler<BadRecord, ?> badRecords,
      String transform) {
    if (badRecords == null) {
      return failures;
    }
    badRecords.addErrorCollection(
        failures.apply("ToBadRecords", ParDo.of(new ToBadRecords(transform)))
            .setCoder(BadRecord.getCoder(failures.getPipeline())));
    return failures.getPipeline()
        .apply("NoFailures", Create.empty(RowCoder.of(Failures.SCHEMA)))
        .setRowSchema(Failures.SCHEMA);
  }
}
