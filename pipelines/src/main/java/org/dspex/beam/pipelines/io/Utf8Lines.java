package org.dspex.beam.pipelines.io;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 text input that drops a leading byte-order mark; invalid bytes become U+FFFD. */
final class Utf8Lines {
  private Utf8Lines() {}

  /** A buffered reader of {@code in} as UTF-8, past a BOM if there is one. */
  static BufferedReader reader(InputStream in) throws IOException {
    BufferedInputStream b = new BufferedInputStream(in, 1 << 16);
    b.mark(3);
    byte[] head = b.readNBytes(3);
    if (!(head.length == 3 && (head[0] & 0xFF) == 0xEF && (head[1] & 0xFF) == 0xBB && (head[2] & 0xFF) == 0xBF)) {
      b.reset();
    }
    Reader r = new InputStreamReader(b, StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE));
    return new BufferedReader(r, 1 << 16);
  }
}
