package org.dspex.beam.pipelines.io;

/**
 * RFC 4180 quoting, one character at a time: what each character is to its record (content,
 * quoting, the end of a field, the end of the record). The reader ({@link CsvRecordReader}) builds
 * the values from it, and the block planner ({@link BlockPlanner}) runs it over the raw bytes to
 * cut a file only where a record ends, so both agree on every record boundary by construction.
 *
 * <p>Bytes or characters give the same answers: only {@code "}, {@code ,}, LF, CR, space and tab
 * change the state, and UTF-8 never uses those bytes inside a multi-byte character. A field that
 * starts with a quote is quoted ({@code ""} inside it is one quote, line breaks are content); a
 * quote elsewhere is content. After a closing quote, spaces, tabs and CR are skipped; any other
 * character before the next comma or line end makes the record malformed (it is read on as
 * unquoted text, so the next record is found all the same).
 */
final class CsvScan {
  /** The character belongs to the current field's value. */
  static final int CONTENT = 0;
  /** The character is quoting (or white space after a closing quote): no content. */
  static final int QUOTING = 1;
  /** The character (a comma) ends the current field. */
  static final int FIELD_END = 2;
  /** The character (LF outside quotes) ends the record. */
  static final int RECORD_END = 3;

  private static final int FIELD_START = 0;
  private static final int UNQUOTED = 1;
  private static final int QUOTED = 2;
  /** A quote inside a quoted field: its end, or the first of {@code ""}. */
  private static final int QUOTE = 3;
  private static final int CLOSED = 4;

  private int state = FIELD_START;
  private boolean malformed;

  /** What {@code c} is, and the state after it. */
  int step(int c) {
    switch (state) {
      case FIELD_START:
        if (c == '"') {
          state = QUOTED;
          return QUOTING;
        }
        return unquoted(c);
      case UNQUOTED:
        return unquoted(c);
      case QUOTED:
        if (c == '"') {
          state = QUOTE;
          return QUOTING;
        }
        return CONTENT;
      case QUOTE:
        if (c == '"') {
          state = QUOTED;
          return CONTENT;
        }
        return closed(c);
      default:
        return closed(c);
    }
  }

  private int unquoted(int c) {
    if (c == ',') {
      state = FIELD_START;
      return FIELD_END;
    }
    if (c == '\n') {
      state = FIELD_START;
      return RECORD_END;
    }
    state = UNQUOTED;
    return CONTENT;
  }

  private int closed(int c) {
    if (c == ',' || c == '\n') {
      return unquoted(c);
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      state = CLOSED;
      return QUOTING;
    }
    malformed = true;
    state = UNQUOTED;
    return CONTENT;
  }

  /**
   * The one character other than LF that can change the state now: a comma inside an unquoted
   * field, a quote inside a quoted one; -1 in the other states, where any character may. Any
   * other character is content and leaves the state as it is.
   */
  int significant() {
    return state == UNQUOTED ? ',' : state == QUOTED ? '"' : -1;
  }

  /** Whether a quoted field is open: a line end here is part of its value. */
  boolean inQuotes() {
    return state == QUOTED;
  }

  /** Whether the current record has text after a closing quote. */
  boolean malformed() {
    return malformed;
  }

  /** The state, to {@link #restore} it. */
  int state() {
    return state;
  }

  /** Goes back to a state {@link #state()} returned (a line the reader skips unread). */
  void restore(int saved) {
    state = saved;
  }

  /** Starts a new record. */
  void reset() {
    state = FIELD_START;
    malformed = false;
  }
}
