package org.dspex.beam.connector.codec;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Carries an encoding problem out of a recursive encoder, collecting the path of the offending
 * value ({@code args.inputs[3].score}) on the way up. The path is built only when something fails,
 * so encoding a valid value costs nothing for it.
 */
final class EncodingFailure extends RuntimeException {
  private final Deque<String> segments = new ArrayDeque<>();

  EncodingFailure(String problem) {
    super(problem, null, false, false);
  }

  EncodingFailure inKey(String key) {
    segments.addFirst("." + key);
    return this;
  }

  EncodingFailure atIndex(int index) {
    segments.addFirst("[" + index + "]");
    return this;
  }

  /** The path below {@code root}; {@code root} may be empty. */
  String path(String root) {
    StringBuilder sb = new StringBuilder(root == null ? "" : root);
    for (String s : segments) {
      sb.append(s);
    }
    if (sb.length() > 0 && sb.charAt(0) == '.') {
      sb.deleteCharAt(0);
    }
    return sb.length() == 0 ? "<root>" : sb.toString();
  }

  EncodingException toException(String root, String format) {
    return new EncodingException(
        String.format("cannot encode %s as %s (field %s)", getMessage(), format, path(root)));
  }
}
