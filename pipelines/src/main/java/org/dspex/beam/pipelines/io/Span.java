package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.VarLongCoder;

/**
 * A part of one input file that one reader reads in order: the bytes {@code [from, to)} of a JSONL
 * or CSV file, {@code from} being the start of a line (and of a record), or the 0-based rows
 * {@code [from, to)} of a Parquet file; {@code line} is the 1-based line (row) at {@code from}, so
 * every record read from it has its exact line number without the file being read from its start.
 * The restriction of {@link ReadSpansFn}, which may cut it only where a record ends ({@link
 * SpanTracker}).
 *
 * @param from the first byte offset or row
 * @param to the end, exclusive
 * @param line the line (1-based row) at {@code from}
 */
public record Span(long from, long to, long line) implements Serializable {
  /** Checks the bounds. */
  public Span {
    if (from < 0 || to < from || line < 1) {
      throw new IllegalArgumentException("a span needs 0 <= from <= to and line >= 1, was " + from + ".." + to
          + " at line " + line);
    }
  }

  /** A span's coder: three variable-length longs. */
  public static final class SpanCoder extends CustomCoder<Span> {
    private static final long serialVersionUID = 1L;
    private static final SpanCoder INSTANCE = new SpanCoder();
    private static final VarLongCoder LONG = VarLongCoder.of();

    /** The coder. */
    public static SpanCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Span s, OutputStream out) throws IOException {
      LONG.encode(s.from(), out);
      LONG.encode(s.to(), out);
      LONG.encode(s.line(), out);
    }

    @Override
    public Span decode(InputStream in) throws IOException {
      return new Span(LONG.decode(in), LONG.decode(in), LONG.decode(in));
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }
}
