package org.dspex.beam.connector.codec;

/** String checks shared by the encoders. */
final class Strings {
  private Strings() {}

  /**
   * Returns the index of the first unpaired surrogate in {@code s}, or -1. Java's UTF-8 encoder
   * silently writes {@code ?} for one; the protocol calls it an encoding error (Python's encoder
   * refuses it too), so the two sides never disagree about a string's bytes.
   */
  static int unpairedSurrogate(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return i;
        }
      }
    }
    return -1;
  }

  static void checkNoUnpairedSurrogate(String s) {
    int at = unpairedSurrogate(s);
    if (at >= 0) {
      throw new EncodingFailure(
          String.format("a string with an unpaired surrogate U+%04X at char %d", (int) s.charAt(at), at));
    }
  }

  /**
   * Returns the offset of the first byte that breaks strict UTF-8 (RFC 3629: no overlong forms, no
   * surrogates, nothing above U+10FFFF) in {@code b[off, off + len)}, or -1 if all is valid.
   */
  static int invalidUtf8(byte[] b, int off, int len) {
    int i = off;
    int end = off + len;
    while (i < end) {
      int c = b[i] & 0xff;
      if (c < 0x80) {
        i++;
        continue;
      }
      int need;
      int min;
      if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        min = 0x80;
      } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        min = 0x800;
      } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        min = 0x10000;
      } else {
        return i;
      }
      if (i + need >= end) {
        return i;
      }
      int cp = c & (0x3f >> need);
      for (int k = 1; k <= need; k++) {
        int cc = b[i + k] & 0xff;
        if ((cc & 0xc0) != 0x80) {
          return i;
        }
        cp = (cp << 6) | (cc & 0x3f);
      }
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return i;
      }
      i += need + 1;
    }
    return -1;
  }
}
