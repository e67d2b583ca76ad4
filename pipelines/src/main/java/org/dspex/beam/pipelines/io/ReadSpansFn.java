package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.pipelines.io.SpanTracker.Claim;

/**
 * Reads the records of a span of a file (the element: the file, and the span it was given) as
 * chunks of rows of a {@link RecordLayout} ({@link ReadRecords#ROWS}, each chunk up to {@code
 * chunkRecords} rows) and failure rows ({@link ReadRecords#FAILURES}). Splittable: each call reads,
 * claims and hands on one chunk, then asks to be resumed, so that a runner commits every chunk as
 * a bundle of its own and never holds more of a file than that. A runner may also checkpoint it
 * between any two chunks (the DirectRunner does after 100 outputs or a second). The reader of a
 * checkpointed span is parked ({@link ParkedCursors}) for the call that resumes the rest.
 *
 * <p>The chunks are what the next steps get as bundles on the DirectRunner: two model batches
 * each by default, so that every batch sent to a worker is full.
 */
@DoFn.BoundedPerElement
final class ReadSpansFn extends DoFn<KV<String, Span>, List<Row>> {
  private static final long serialVersionUID = 1L;
  private final InputFormat format;
  private final boolean replay;
  private final RecordLayout layout;
  private final int maxLineBytes;
  private final int chunkRecords;
  private final String readId;

  ReadSpansFn(InputFormat format, boolean replay, RecordLayout layout, int maxLineBytes, int chunkRecords,
      String readId) {
    this.format = format;
    this.replay = replay;
    this.layout = layout;
    this.maxLineBytes = maxLineBytes;
    this.chunkRecords = chunkRecords;
    this.readId = readId;
  }

  @GetInitialRestriction
  public Span initial(@Element KV<String, Span> block) {
    return block.getValue();
  }

  @NewTracker
  public SpanTracker tracker(@Restriction Span span) {
    return new SpanTracker(span);
  }

  @GetRestrictionCoder
  public Coder<Span> restrictionCoder() {
    return Span.SpanCoder.of();
  }

  @GetSize
  public double size(@Restriction Span span) {
    return span.to() - span.from();
  }

  @ProcessElement
  public ProcessContinuation process(@Element KV<String, Span> block, RestrictionTracker<Span, Claim> tracker,
      MultiOutputReceiver out) throws IOException {
    String file = block.getKey();
    Span span = tracker.currentRestriction();
    SpanCursor cursor = ParkedCursors.take(ParkedCursors.key(readId, file, span.from()));
    if (cursor == null) {
      cursor = new SpanCursor(RecordReader.open(file, format, replay, maxLineBytes, span));
    }
    boolean parked = false;
    try {
      List<SourceRecord> chunk = cursor.peek(chunkRecords);
      if (!tracker.tryClaim(cursor.claim())) {
        Span left = tracker.currentRestriction();
        if (!chunk.isEmpty() && left.to() < span.to()) {
          // A checkpoint before this chunk: the rest of the span resumes where this reader stands.
          ParkedCursors.park(ParkedCursors.key(readId, file, left.to()), cursor);
          parked = true;
        }
        return ProcessContinuation.stop();
      }
      emit(chunk, file, out);
      long end = cursor.claim().end();
      cursor.advance();
      if (cursor.ended()) {
        tracker.tryClaim(Claim.END);
        return ProcessContinuation.stop();
      }
      // One chunk a call: the runner checkpoints where it ends, and the next call goes on from there.
      ParkedCursors.park(ParkedCursors.key(readId, file, end), cursor);
      parked = true;
      return ProcessContinuation.resume();
    } finally {
      if (!parked) {
        cursor.close();
      }
    }
  }

  /** The chunk's rows as one output, its failures one by one. */
  private void emit(List<SourceRecord> chunk, String file, MultiOutputReceiver out) {
    List<Row> rows = new ArrayList<>(chunk.size());
    for (SourceRecord r : chunk) {
      if (!r.ok()) {
        out.get(ReadRecords.FAILURES).output(FailureRecords.row(r.line(), r.inputJson(), r.errorType(), r.message(),
            0, file));
        continue;
      }
      try {
        rows.add(layout.toRow(r, file));
      } catch (RecordLayout.FieldException e) {
        out.get(ReadRecords.FAILURES).output(FailureRecords.row(r.line(), r.inputJson(), e.type(), e.getMessage(), 0,
            file));
      }
    }
    if (!rows.isEmpty()) {
      out.get(ReadRecords.CHUNKS).output(rows);
    }
  }
}
