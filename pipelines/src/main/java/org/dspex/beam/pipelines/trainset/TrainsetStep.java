package org.dspex.beam.pipelines.trainset;

import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.dspex.beam.pipelines.Job;
import org.dspex.beam.pipelines.io.FailureRecords;
import org.dspex.beam.pipelines.io.RecordLayout;
import org.dspex.beam.transforms.DSPexPredict;

/**
 * The trainset model step: the labelling program on every row, then accepted rows to the output
 * and rejected ones to the failures as {@value #REJECTED} (attempts 1, the teacher's answer and the
 * label in the message), so that every input line still ends in exactly one of the two files.
 */
public final class TrainsetStep implements Job.ModelStep {
  /** Python module and factory of the labelling program. */
  public static final String PROGRAM = "dspex_worker.trainset:build";
  /** The gold label's field in the rows (the label column, renamed). */
  public static final String GOLD = "dspex_gold";
  /** The program's verdict field. */
  public static final String ACCEPTED = "dspex_accepted";
  /** The program's score field. */
  public static final String SCORE = "dspex_score";
  /** Error type of records whose teacher answer the metric rejected: an outcome, not an error. */
  public static final String REJECTED = "Rejected";

  private static final TupleTag<Row> KEPT = new TupleTag<>("kept") {};
  private static final TupleTag<Row> DROPPED = new TupleTag<>("rejected") {};

  private final DSPexPredict labeler;
  private final String labelField;
  private final String metric;

  /** Runs {@code labeler} (a {@value #PROGRAM} program) for label {@code labelField} and {@code metric}. */
  public TrainsetStep(DSPexPredict labeler, String labelField, String metric) {
    this.labeler = labeler;
    this.labelField = labelField;
    this.metric = metric;
  }

  @Override
  public Job.ModelOutput apply(PCollection<Row> rows) {
    Job.ModelOutput labelled = Job.ModelOutput.of(rows.apply("Label", labeler));
    PCollectionTuple split = labelled.output().apply("Verdict",
        ParDo.of(new VerdictFn(labelField, metric)).withOutputTags(KEPT, TupleTagList.of(DROPPED)));
    PCollection<Row> kept = split.get(KEPT).setRowSchema(labelled.output().getSchema());
    PCollection<Row> rejected = split.get(DROPPED).setRowSchema(FailureRecords.SCHEMA);
    PCollection<Row> failures = PCollectionList.of(labelled.failures()).and(rejected)
        .apply("LabelFailures", Flatten.pCollections()).setRowSchema(FailureRecords.SCHEMA);
    return new Job.ModelOutput(kept, failures);
  }

  /** Accepted rows through, rejected rows as failure rows. */
  static final class VerdictFn extends DoFn<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final String labelField;
    private final String metric;

    VerdictFn(String labelField, String metric) {
      this.labelField = labelField;
      this.metric = metric;
    }

    @ProcessElement
    public void process(@Element Row r, MultiOutputReceiver out) {
      if (Boolean.TRUE.equals(r.getBoolean(ACCEPTED))) {
        out.get(KEPT).output(r);
        return;
      }
      Object answer = r.getValue(labelField);
      Object gold = r.getValue(GOLD);
      Double score = r.getDouble(SCORE);
      out.get(DROPPED).output(FailureRecords.row(r.getInt64(RecordLayout.LINE), r.getString(RecordLayout.INPUT),
          REJECTED, "metric " + metric + " rejected the teacher's " + labelField + " " + quote(answer)
              + " for the label " + quote(gold) + " (score " + score + ")",
          1, r.getString(RecordLayout.FILE)));
    }

    private static String quote(Object v) {
      String s = String.valueOf(v);
      return "'" + (s.length() > 80 ? s.substring(0, 77) + "..." : s) + "'";
    }
  }
}
