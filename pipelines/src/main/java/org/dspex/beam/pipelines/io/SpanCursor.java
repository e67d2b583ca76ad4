package org.dspex.beam.pipelines.io;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link RecordReader} that reads a chunk of records ahead: the chunk is read before it is
 * claimed (its claim needs to know where its last record ends), so a reader stopped by a
 * checkpoint keeps the chunk it could not claim, for the call that resumes there ({@link
 * ParkedCursors}).
 */
final class SpanCursor implements Closeable {
  private final RecordReader reader;
  private final List<SourceRecord> chunk = new ArrayList<>();
  private boolean loaded;
  private boolean ended;
  private SpanTracker.Claim claim = SpanTracker.Claim.END;

  SpanCursor(RecordReader reader) {
    this.reader = reader;
  }

  /**
   * The next chunk of up to {@code n} records (read now unless it was already); empty at the end.
   * A chunk shorter than {@code n} is the last.
   */
  List<SourceRecord> peek(int n) throws IOException {
    if (!loaded) {
      long start = -1;
      while (!ended && chunk.size() < n) {
        SourceRecord r = reader.next();
        if (r == null) {
          ended = true;
          break;
        }
        if (start < 0) {
          start = reader.start();
        }
        chunk.add(r);
      }
      claim = chunk.isEmpty() ? SpanTracker.Claim.END
          : new SpanTracker.Claim(start, reader.end(), reader.endLine());
      loaded = true;
    }
    return chunk;
  }

  /** The claim of the chunk {@link #peek} returned: {@link SpanTracker.Claim#END} at the end. */
  SpanTracker.Claim claim() {
    return claim;
  }

  /** Whether the reader has reached the end of its span (the chunk {@link #peek} returned is the last). */
  boolean ended() {
    return ended;
  }

  /** Moves past the chunk {@link #peek} returned. */
  void advance() {
    loaded = false;
    chunk.clear();
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
