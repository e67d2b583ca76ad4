package org.dspex.beam.connector.codec;

/**
 * The element types an NPY body may have ({@code docs/protocol.md} section 3.4): little-endian
 * only, named by their NPY {@code descr}.
 */
public enum NpyDtype {
  /** {@code <f4}: float32, what embeddings travel as. */
  FLOAT32("<f4", 4),
  /** {@code <f8}: float64. */
  FLOAT64("<f8", 8),
  /** {@code <i4}: int32. */
  INT32("<i4", 4),
  /** {@code <i8}: int64. */
  INT64("<i8", 8);

  private final String descr;
  private final int itemSize;

  NpyDtype(String descr, int itemSize) {
    this.descr = descr;
    this.itemSize = itemSize;
  }

  /** The NPY {@code descr}, e.g. {@code "<f4"}. */
  public String descr() {
    return descr;
  }

  /** Bytes per element. */
  public int itemSize() {
    return itemSize;
  }

  /** Whether elements are floating point. */
  public boolean isFloat() {
    return this == FLOAT32 || this == FLOAT64;
  }

  /** The dtype with this {@code descr}, or {@code null}. */
  public static NpyDtype fromDescr(String descr) {
    for (NpyDtype d : values()) {
      if (d.descr.equals(descr)) {
        return d;
      }
    }
    return null;
  }
}
