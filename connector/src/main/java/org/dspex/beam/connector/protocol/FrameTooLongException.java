package org.dspex.beam.connector.protocol;

/**
 * A length above its limit: a frame longer than {@code max_frame_bytes} (found before anything is allocated for it), a REF longer than {@code max_ref_bytes}, or a forced inline body too large to write. On a frame it breaks the channel: the reader cannot resynchronise.
 *
 * <p>Specification name: {@code FrameTooLong} ({@code docs/protocol.md} section 8).
 */
public class FrameTooLongException extends ProtocolException {
  /** The specification name of this error. */
  public static final String NAME = "FrameTooLong";

  /** An error with the given description (the peer is attached separately). */
  public FrameTooLongException(String detail) {
    super(detail);
  }

  /** An error with the given description and cause. */
  public FrameTooLongException(String detail, Throwable cause) {
    super(detail, cause);
  }

  @Override
  public String errorName() {
    return NAME;
  }
}
