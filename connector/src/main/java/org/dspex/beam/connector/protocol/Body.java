package org.dspex.beam.connector.protocol;

import org.dspex.beam.connector.codec.ContentFormat;

/**
 * A body received in its own frame (or through a REF), decoded.
 *
 * @param name the body's name from the header's {@code body} list
 * @param format its content format
 * @param value the decoded value: the value model for JSON and MessagePack, an {@link
 *     org.dspex.beam.connector.codec.ArrowTable} for Arrow, an {@link
 *     org.dspex.beam.connector.codec.NdArray} for NumPy
 * @param ref the REF it came through, or {@code null} when it came in a frame
 * @param encodedBytes the size of its encoding (frame payload or REF length)
 */
public record Body(String name, ContentFormat format, Object value, RefPointer ref, long encodedBytes) {
  /** Whether the body came through a REF file. */
  public boolean viaRef() {
    return ref != null;
  }
}
