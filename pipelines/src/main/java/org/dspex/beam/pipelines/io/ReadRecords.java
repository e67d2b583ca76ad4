package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.util.List;
import java.util.UUID;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.dspex.beam.transforms.config.ExecutionSettings;

/**
 * Reads every file a pattern matches into rows of a {@link RecordLayout} ({@link #ROWS}) and
 * failure rows ({@link #FAILURES}, {@link FailureRecords#SCHEMA}) for records that do not parse or
 * do not fit the layout, without ever holding an input: no record is grouped, and the reader hands
 * the records on a chunk at a time, each chunk checkpointed by itself, so that a runner commits it
 * (and forgets it) before the next is read.
 *
 * <p>Each file is cut into blocks of about {@link #withBlockRecords block records} records ({@link
 * BlockPlanner}: JSONL and CSV by byte ranges found in one pass that only looks for record ends,
 * Parquet by row groups from the footer), the small block descriptors are spread over the workers
 * ({@link Reshuffle}), and each block is read by a splittable DoFn ({@link ReadSpansFn}) that knows
 * the line number where its block starts, so line numbers stay exact. With {@value #WHOLE_FILES}
 * block records a file is one block and the planning pass is skipped: what the DirectRunner wants,
 * since it runs each step's bundles on any of its threads anyway and would start every block at
 * once. On the DirectRunner each chunk ({@link #withChunkRecords}) is a bundle of every later step.
 *
 * <pre>{@code
 * PCollectionTuple read = p.apply("Read", ReadRecords.of(probe, layout).withBlockRecords(1_000));
 * PCollection<Row> rows = read.get(ReadRecords.ROWS);          // layout.schema()
 * PCollection<Row> failed = read.get(ReadRecords.FAILURES);    // FailureRecords.SCHEMA
 * }</pre>
 */
public final class ReadRecords extends PTransform<PBegin, PCollectionTuple> {
  private static final long serialVersionUID = 1L;

  /** The rows for the model. */
  public static final TupleTag<Row> ROWS = new TupleTag<>("rows") {};
  /** Records that failed before reaching the model. */
  public static final TupleTag<Row> FAILURES = new TupleTag<>("read-failures") {};
  /** The rows as the reader hands them on, a chunk at a time. */
  static final TupleTag<List<Row>> CHUNKS = new TupleTag<>("chunks") {};
  /** Records per block unless told otherwise: 1,000. */
  public static final int DEFAULT_BLOCK_RECORDS = 1_000;
  /** The block size that reads each file as one block. */
  public static final int WHOLE_FILES = 0;
  /**
   * Records per chunk unless told otherwise: 1,024, sixteen model batches of the transforms'
   * default size. On the DirectRunner each chunk costs a checkpoint of the reader (several
   * milliseconds of the runner's bookkeeping) and is a bundle of every later step.
   */
  public static final int DEFAULT_CHUNK_RECORDS = 16 * ExecutionSettings.DEFAULT_MAX_BATCH_SIZE;

  private final String pattern;
  private final InputFormat format;
  private final boolean replay;
  private final RecordLayout layout;
  private final int maxLineBytes;
  private final int blockRecords;
  private final int chunkRecords;
  private final String readId = UUID.randomUUID().toString();

  private ReadRecords(String pattern, InputFormat format, boolean replay, RecordLayout layout, int maxLineBytes,
      int blockRecords, int chunkRecords) {
    this.pattern = pattern;
    this.format = format;
    this.replay = replay;
    this.layout = layout;
    this.maxLineBytes = maxLineBytes;
    this.blockRecords = blockRecords;
    this.chunkRecords = chunkRecords;
  }

  /**
   * Reads what {@code input} probed (its pattern, format, replay and line limit) into rows of
   * {@code layout}, in blocks of {@value #DEFAULT_BLOCK_RECORDS} records.
   */
  public static ReadRecords of(InputProbe input, RecordLayout layout) {
    return new ReadRecords(input.pattern(), input.format(), input.replay(), layout, input.maxLineBytes(),
        DEFAULT_BLOCK_RECORDS, DEFAULT_CHUNK_RECORDS);
  }

  /**
   * Cuts each file into blocks of about {@code n} records (JSONL: lines; a Parquet block is a row
   * group or a part of one), read in parallel; {@value #WHOLE_FILES}: each file is one block.
   * Default {@value #DEFAULT_BLOCK_RECORDS}.
   */
  public ReadRecords withBlockRecords(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("block records must be 0 (whole files) or positive, was " + n);
    }
    return new ReadRecords(pattern, format, replay, layout, maxLineBytes, n, chunkRecords);
  }

  /**
   * Hands the rows on in chunks of {@code n} records, each read (and committed by the runner) on
   * its own: on the DirectRunner each chunk is a bundle of the next steps, so give it a multiple of
   * the model's batch size. Default {@value #DEFAULT_CHUNK_RECORDS}.
   */
  public ReadRecords withChunkRecords(int n) {
    if (n <= 0) {
      throw new IllegalArgumentException("chunk records must be positive, was " + n);
    }
    return new ReadRecords(pattern, format, replay, layout, maxLineBytes, blockRecords, n);
  }

  /** The records per block ({@value #WHOLE_FILES}: whole files). */
  public int blockRecords() {
    return blockRecords;
  }

  @Override
  public PCollectionTuple expand(PBegin begin) {
    PCollection<KV<String, Span>> blocks = begin
        .apply("Match", FileIO.match().filepattern(pattern).withEmptyMatchTreatment(EmptyMatchTreatment.DISALLOW))
        .apply("Plan", ParDo.of(new PlanFn(format, replay, blockRecords, maxLineBytes)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), Span.SpanCoder.of()));
    if (blockRecords != WHOLE_FILES) {
      blocks = blocks.apply("Spread", Reshuffle.viaRandomKey());
    }
    PCollectionTuple t = blocks.apply("Parse", ParDo.of(
            new ReadSpansFn(format, replay, layout, maxLineBytes, chunkRecords, readId))
        .withOutputTags(CHUNKS, TupleTagList.of(FAILURES)));
    t.get(CHUNKS).setCoder(ListCoder.of(RowCoder.of(layout.schema())));
    t.get(FAILURES).setRowSchema(FailureRecords.SCHEMA);
    PCollection<Row> rows = t.get(CHUNKS).apply("Unchunk", ParDo.of(new UnchunkFn())).setRowSchema(layout.schema());
    return PCollectionTuple.of(ROWS, rows).and(FAILURES, t.get(FAILURES));
  }

  /** The rows of a chunk. */
  static final class UnchunkFn extends DoFn<List<Row>, Row> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(@Element List<Row> chunk, OutputReceiver<Row> out) {
      for (Row r : chunk) {
        out.output(r);
      }
    }
  }

  /** A matched file's blocks, as they are found. */
  static final class PlanFn extends DoFn<MatchResult.Metadata, KV<String, Span>> {
    private static final long serialVersionUID = 1L;
    private final InputFormat format;
    private final boolean replay;
    private final int blockRecords;
    private final int maxLineBytes;

    PlanFn(InputFormat format, boolean replay, int blockRecords, int maxLineBytes) {
      this.format = format;
      this.replay = replay;
      this.blockRecords = blockRecords;
      this.maxLineBytes = maxLineBytes;
    }

    @ProcessElement
    public void process(@Element MatchResult.Metadata file, OutputReceiver<KV<String, Span>> out) throws IOException {
      String name = file.resourceId().toString();
      BlockPlanner.plan(name, file.sizeBytes(), format, replay, blockRecords, maxLineBytes,
          span -> out.output(KV.of(name, span)));
    }
  }
}
