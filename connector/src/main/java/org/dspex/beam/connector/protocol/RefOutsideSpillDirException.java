package org.dspex.beam.connector.protocol;

/**
 * A REF frame's path is absolute, has a {@code ..} component, or leads (through symbolic links) outside the spill directory.
 *
 * <p>Specification name: {@code RefOutsideSpillDir} ({@code docs/protocol.md} section 8).
 */
public class RefOutsideSpillDirException extends ProtocolException {
  /** The specification name of this error. */
  public static final String NAME = "RefOutsideSpillDir";

  /** An error with the given description (the peer is attached separately). */
  public RefOutsideSpillDirException(String detail) {
    super(detail);
  }

  /** An error with the given description and cause. */
  public RefOutsideSpillDirException(String detail, Throwable cause) {
    super(detail, cause);
  }

  @Override
  public String errorName() {
    return NAME;
  }
}
