package org.dspex.beam.transforms;

import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PInput;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.PValue;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * What {@link DSPexPredict} and {@link DSPexEmbed} produce: {@link #output()}, the typed rows, and
 * {@link #failures()}, one row per element that got no output ({@link
 * org.dspex.beam.transforms.failures.Failures#SCHEMA}). Every input element ends in exactly one of
 * the two. With {@code withBadRecordErrorHandler} the failures go to that handler instead, and
 * {@link #failures()} is empty.
 */
public final class DSPexResult implements POutput {
  private final Pipeline pipeline;
  private final TupleTag<Row> outputTag;
  private final PCollection<Row> output;
  private final TupleTag<Row> failuresTag;
  private final PCollection<Row> failures;

  private DSPexResult(Pipeline pipeline, TupleTag<Row> outputTag, PCollection<Row> output,
      TupleTag<Row> failuresTag, PCollection<Row> failures) {
    this.pipeline = pipeline;
    this.outputTag = outputTag;
    this.output = output;
    this.failuresTag = failuresTag;
    this.failures = failures;
  }

  static DSPexResult of(PCollection<Row> output, PCollection<Row> failures) {
    return new DSPexResult(output.getPipeline(), new TupleTag<>("output"), output,
        new TupleTag<>("failures"), failures);
  }

  /** The typed output rows: the input's key and fields, then the model's outputs. */
  public PCollection<Row> output() {
    return output;
  }

  /** The failure rows (empty when a BadRecord error handler takes them). */
  public PCollection<Row> failures() {
    return failures;
  }

  @Override
  public Pipeline getPipeline() {
    return pipeline;
  }

  @Override
  public Map<TupleTag<?>, PValue> expand() {
    return Map.of(outputTag, output, failuresTag, failures);
  }

  @Override
  public void finishSpecifyingOutput(
      String transformName, PInput input, PTransform<?, ?> transform) {}
}
