package org.dspex.beam.pipelines.io;

import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Claims the records of a {@link Span} one by one, and cuts it only where a claimed record ends:
 * there the byte offset (row) and the line number of what follows are known exactly, so the rest
 * of the span (the residual of a checkpoint) is read from there with exact line numbers.
 *
 * <p>Only checkpoints are taken ({@code trySplit(0)}, which the DirectRunner asks for every 100
 * records, and runners ask for when they pause a reader); a split at another fraction is declined,
 * since the line number at an arbitrary offset is not known before the file is read up to there.
 * Blocks planned before reading ({@link BlockPlanner}) are what spreads one file over workers.
 */
public final class SpanTracker extends RestrictionTracker<Span, SpanTracker.Claim>
    implements RestrictionTracker.HasProgress {

  /**
   * One record: where it starts, and where the next one may start, with that line's number.
   *
   * @param start the record's byte offset (row)
   * @param end the offset (row) past it
   * @param endLine the line (1-based row) at {@code end}
   */
  public record Claim(long start, long end, long endLine) {
    /** The claim made at the end of the input: it always fails, and marks the span done. */
    public static final Claim END = new Claim(Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);
  }

  private Span span;
  private long resumeAt;
  private long resumeLine;
  private boolean exhausted;

  /** A tracker of {@code span}, nothing claimed yet. */
  public SpanTracker(Span span) {
    this.span = span;
    this.resumeAt = span.from();
    this.resumeLine = span.line();
  }

  @Override
  public boolean tryClaim(Claim c) {
    if (c.start() < resumeAt) {
      throw new IllegalArgumentException("a record claimed at " + c.start() + " starts before the end " + resumeAt
          + " of the one claimed before it, in " + span);
    }
    if (c.start() >= span.to()) {
      exhausted = true;
      return false;
    }
    resumeAt = c.end();
    resumeLine = c.endLine();
    return true;
  }

  @Override
  public Span currentRestriction() {
    return span;
  }

  @Override
  public @Nullable SplitResult<Span> trySplit(double fractionOfRemainder) {
    if (fractionOfRemainder != 0 || exhausted || resumeAt >= span.to()) {
      return null;
    }
    Span primary = new Span(span.from(), resumeAt, span.line());
    Span residual = new Span(resumeAt, span.to(), resumeLine);
    span = primary;
    return SplitResult.of(primary, residual);
  }

  @Override
  public void checkDone() {
    if (!exhausted && resumeAt < span.to()) {
      throw new IllegalStateException("the records of " + span + " from offset " + resumeAt + " (line "
          + resumeLine + ") on were not read");
    }
  }

  @Override
  public IsBounded isBounded() {
    return IsBounded.BOUNDED;
  }

  @Override
  public Progress getProgress() {
    long done = Math.min(resumeAt, span.to()) - span.from();
    return Progress.from(done, exhausted ? 0 : span.to() - span.from() - done);
  }

  @Override
  public String toString() {
    return "SpanTracker" + span + " at " + resumeAt;
  }
}
