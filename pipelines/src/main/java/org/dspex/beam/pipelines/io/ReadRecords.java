package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Reads every file a pattern matches into rows of a {@link RecordLayout} ({@link #ROWS}) and
 * failure rows ({@link #FAILURES}, {@link FailureRecords#SCHEMA}) for lines that do not parse or do
 * not fit the layout. Each file is read sequentially by one DoFn call, so line numbers are exact;
 * several files are read in parallel. The rows are then regrouped into chunks of consecutive
 * records (two model batches each, by default), so that one large file still becomes many bundles:
 * the model runs on several threads or task slots, and finished records reach the output (and the
 * progress counters) chunk by chunk instead of all at the end.
 */
public final class ReadRecords extends PTransform<PBegin, PCollectionTuple> {
  private static final long serialVersionUID = 1L;

  /** The rows for the model. */
  public static final TupleTag<Row> ROWS = new TupleTag<>("rows") {};
  /** Records that failed before reaching the model. */
  public static final TupleTag<Row> FAILURES = new TupleTag<>("read-failures") {};

  private final String pattern;
  private final InputFormat format;
  private final boolean replay;
  private final RecordLayout layout;
  private final int maxLineBytes;
  private final int chunk;

  /**
   * Reads {@code pattern} (a file or glob) in {@code format}; {@code replay} for a failures file;
   * text lines over {@code maxLineBytes} fail unread; rows regrouped in chunks of {@code chunk}
   * records.
   */
  public ReadRecords(String pattern, InputFormat format, boolean replay, RecordLayout layout, int maxLineBytes,
      int chunk) {
    this.pattern = pattern;
    this.format = format;
    this.replay = replay;
    this.layout = layout;
    this.maxLineBytes = maxLineBytes;
    this.chunk = chunk;
  }

  @Override
  public PCollectionTuple expand(PBegin begin) {
    PCollectionTuple t = begin
        .apply("Match", FileIO.match().filepattern(pattern).withEmptyMatchTreatment(EmptyMatchTreatment.DISALLOW))
        .apply("Open", FileIO.readMatches())
        .apply("Parse", ParDo.of(new ReadFileFn(format, replay, layout, maxLineBytes))
            .withOutputTags(ROWS, TupleTagList.of(FAILURES)));
    t.get(ROWS).setRowSchema(layout.schema());
    t.get(FAILURES).setRowSchema(FailureRecords.SCHEMA);
    PCollection<Row> chunked = t.get(ROWS)
        .apply("ChunkKeys", ParDo.of(new ChunkKeyFn(chunk)))
        .setCoder(KvCoder.of(VarLongCoder.of(), RowCoder.of(layout.schema())))
        .apply("Chunk", GroupByKey.create())
        .apply("Unchunk", ParDo.of(new UnchunkFn()))
        .setRowSchema(layout.schema());
    return PCollectionTuple.of(ROWS, chunked).and(FAILURES, t.get(FAILURES));
  }

  /** Keys a row by its file and chunk of lines. */
  static final class ChunkKeyFn extends DoFn<Row, KV<Long, Row>> {
    private static final long serialVersionUID = 1L;
    private final int size;

    ChunkKeyFn(int size) {
      this.size = size;
    }

    @ProcessElement
    public void process(@Element Row r, OutputReceiver<KV<Long, Row>> out) {
      long chunk = r.getInt64(RecordLayout.LINE) / size;
      out.output(KV.of(r.getString(RecordLayout.FILE).hashCode() * 1_000_003L + chunk, r));
    }
  }

  /** The rows of a chunk. */
  static final class UnchunkFn extends DoFn<KV<Long, Iterable<Row>>, Row> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(@Element KV<Long, Iterable<Row>> chunk, OutputReceiver<Row> out) {
      for (Row r : chunk.getValue()) {
        out.output(r);
      }
    }
  }

  /** One file, record by record. */
  static final class ReadFileFn extends DoFn<FileIO.ReadableFile, Row> {
    private static final long serialVersionUID = 1L;
    private final InputFormat format;
    private final boolean replay;
    private final RecordLayout layout;
    private final int maxLineBytes;

    ReadFileFn(InputFormat format, boolean replay, RecordLayout layout, int maxLineBytes) {
      this.format = format;
      this.replay = replay;
      this.layout = layout;
      this.maxLineBytes = maxLineBytes;
    }

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out) throws IOException {
      String name = file.getMetadata().resourceId().toString();
      try (SeekableByteChannel ch = file.openSeekable();
          RecordReader reader = RecordReader.open(name, format, ch, replay, maxLineBytes)) {
        for (SourceRecord r = reader.next(); r != null; r = reader.next()) {
          if (!r.ok()) {
            out.get(FAILURES).output(FailureRecords.row(r.line(), r.inputJson(), r.errorType(), r.message(), 0, name));
            continue;
          }
          try {
            out.get(ROWS).output(layout.toRow(r, name));
          } catch (RecordLayout.FieldException e) {
            out.get(FAILURES).output(FailureRecords.row(r.line(), r.inputJson(), e.type(), e.getMessage(), 0, name));
          }
        }
      }
    }
  }
}
