package org.dspex.beam.transforms.failures;

import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.errorhandling.BadRecord;
import org.apache.beam.sdk.values.Row;

/**
 * Failure rows as Beam {@link BadRecord}s for {@code withBadRecordErrorHandler}: the record is the
 * element's JSON (replayable), the exception is {@code error_type: message}, the description adds
 * the attempts and the worker.
 */
public final class ToBadRecords extends DoFn<Row, BadRecord> {
  private static final long serialVersionUID = 1L;
  private final String transformName;

  /** Converts failures of the transform named {@code transformName}. */
  public ToBadRecords(String transformName) {
    this.transformName = transformName;
  }

  /** One failure row, one bad record. */
  @ProcessElement
  public void processElement(@Element Row f, OutputReceiver<BadRecord> out) {
    String worker = f.getString("worker");
    out.output(
        BadRecord.builder()
            .setRecord(BadRecord.Record.builder().setHumanReadableJsonRecord(f.getString("element")).build())
            .setFailure(
                BadRecord.Failure.builder()
                    .setException(f.getString("error_type") + ": " + f.getString("message"))
                    .setDescription(
                        transformName + ": " + f.getString("error_type") + " after "
                            + f.getInt32("attempts") + " attempt(s)"
                            + (worker == null ? "" : " on " + worker))
                    .build())
            .build());
  }
}
