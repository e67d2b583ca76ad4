package org.dspex.beam.connector.codec;

import java.nio.ByteBuffer;

/** Builds the decoders' errors, all of which show the payload's first bytes. */
final class CodecErrors {
  private CodecErrors() {}

  static CorruptedPayloadException corrupted(ByteBuffer payload, String what, Throwable cause) {
    return new CorruptedPayloadException(
        what + "; first bytes: " + FirstBytes.render(payload), cause);
  }

  /** "a list", "a string", ... for messages about a value of the wrong kind. */
  static String kind(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof java.util.List) {
      return "a list";
    }
    if (v instanceof java.util.Map) {
      return "a map";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof byte[]) {
      return "bytes";
    }
    return "a " + v.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }
}
