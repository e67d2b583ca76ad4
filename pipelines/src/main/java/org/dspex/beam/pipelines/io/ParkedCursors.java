package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Open readers of spans that a checkpoint stopped, kept in this JVM for the call that resumes the
 * rest of the span, so that it goes on reading where the reader stands instead of opening the file
 * again (for Parquet, instead of decoding its row group again up to there). The DirectRunner
 * checkpoints a reader every 100 records, and resumes it in the same JVM; a runner that resumes
 * elsewhere, or after the cursor was dropped, opens the span afresh, which is always correct.
 *
 * <p>Keyed by the reading transform's instance, the file and the resume offset (row). Bounded:
 * at most {@value #MAX} cursors, each dropped (closed) after {@value #IDLE_SECONDS} s unused.
 */
final class ParkedCursors {
  /** The most cursors kept. */
  static final int MAX = 64;
  /** How long a cursor is kept unused. */
  static final long IDLE_SECONDS = 300;

  private record Parked(SpanCursor cursor, long since) {}

  private static final Map<String, Parked> PARKED = new LinkedHashMap<>();

  private ParkedCursors() {}

  /** The key of a span of {@code file} read by the transform {@code readId} that resumes at {@code from}. */
  static String key(String readId, String file, long from) {
    return readId + '\u0000' + file + '\u0000' + from;
  }

  /** Keeps {@code cursor} for the call that resumes at {@code key}. */
  static void park(String key, SpanCursor cursor) {
    SpanCursor replaced;
    synchronized (PARKED) {
      Parked old = PARKED.put(key, new Parked(cursor, System.nanoTime()));
      replaced = old == null ? null : old.cursor();
    }
    close(replaced);
    expire();
  }

  /** The cursor parked for {@code key}, now the caller's; null when there is none. */
  static @Nullable SpanCursor take(String key) {
    synchronized (PARKED) {
      Parked p = PARKED.remove(key);
      return p == null ? null : p.cursor();
    }
  }

  /** How many cursors are parked (for tests). */
  static int size() {
    synchronized (PARKED) {
      return PARKED.size();
    }
  }

  private static void expire() {
    long now = System.nanoTime();
    java.util.List<SpanCursor> gone = new java.util.ArrayList<>();
    synchronized (PARKED) {
      Iterator<Parked> it = PARKED.values().iterator();
      while (it.hasNext()) {
        Parked p = it.next();
        if (PARKED.size() > MAX || now - p.since() > IDLE_SECONDS * 1_000_000_000L) {
          gone.add(p.cursor());
          it.remove();
        }
      }
    }
    gone.forEach(ParkedCursors::close);
  }

  private static void close(@Nullable SpanCursor c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException e) {
      // A reader dropped unused: nothing was read from it that anyone waits for.
    }
  }
}
