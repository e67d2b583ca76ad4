package org.dspex.beam.pipelines;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.dspex.beam.pipelines.io.FailureRecords;
import org.dspex.beam.pipelines.io.InputProbe;
import org.dspex.beam.pipelines.io.RecordLayout;
import org.dspex.beam.transforms.DSPexResult;

/**
 * One {@code dspex} job, as a command describes it: the probed input, the fields taken from each
 * record, the model step, the output columns, error types that are no errors (not counted against
 * {@code --max-failure-rate}) and extra summary lines. Immutable.
 *
 * @param command the subcommand's name, for the summary
 * @param outputColumns the written columns, in order: the id field, the kept fields, the outputs
 * @param notErrors failure types that are outcomes rather than errors (trainset's rejections)
 * @param notes extra summary lines, label to text
 */
public record Job(
    String command,
    InputProbe input,
    RecordLayout layout,
    ModelStep model,
    List<String> outputColumns,
    Set<String> notErrors,
    Map<String, String> notes) {

  /** Applies the model to the rows of the layout. */
  @FunctionalInterface
  public interface ModelStep {
    /** The model's output rows and failure rows ({@link FailureRecords#SCHEMA}). */
    ModelOutput apply(PCollection<Row> rows);
  }

  /**
   * What a model step produces.
   *
   * @param output rows holding the layout's fields and the model's outputs
   * @param failures rows of {@link FailureRecords#SCHEMA}
   */
  public record ModelOutput(PCollection<Row> output, PCollection<Row> failures) {
    /** A transform's result, its failures mapped back to input lines. */
    public static ModelOutput of(DSPexResult r) {
      return new ModelOutput(r.output(), failures(r.failures()));
    }

    /** Transform failure rows as {@link FailureRecords#SCHEMA} rows. */
    public static PCollection<Row> failures(PCollection<Row> transformFailures) {
      return transformFailures
          .apply("ToFailureRecords", MapElements.into(TypeDescriptors.rows()).via(FailureRecords::fromTransform))
          .setRowSchema(FailureRecords.SCHEMA);
    }
  }
}
