package org.dspex.beam.connector.codec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A C-order numeric array, the Java face of an NPY body: a dtype, a shape and the elements as a
 * little-endian {@link ByteBuffer}.
 *
 * <p>A decoded array is a view of the payload it came in (a frame's array or a memory-mapped REF
 * file), never a copy; the {@code to*} methods copy out into Java arrays, the {@code of*} factories
 * copy in.
 *
 * <pre>{@code
 * NdArray vectors = (NdArray) response.body("vectors");
 * float[][] embeddings = vectors.toFloatMatrix();   // n x dim
 * }</pre>
 */
public final class NdArray {
  private final NpyDtype dtype;
  private final long[] shape;
  private final ByteBuffer data;

  private NdArray(NpyDtype dtype, long[] shape, ByteBuffer data) {
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
  }

  /**
   * An array over {@code data}'s remaining bytes (shared, not copied), which must hold exactly
   * {@code product(shape) * itemSize} little-endian elements.
   */
  public static NdArray of(NpyDtype dtype, long[] shape, ByteBuffer data) {
    Objects.requireNonNull(dtype, "dtype");
    long[] s = shape.clone();
    long expected = byteSize(dtype, s);
    if (expected != data.remaining()) {
      throw new IllegalArgumentException(
          String.format(
              "shape %s of %s needs %d bytes, data has %d",
              shapeRepr(s), dtype.descr(), expected, data.remaining()));
    }
    return new NdArray(dtype, s, data.slice().order(ByteOrder.LITTLE_ENDIAN));
  }

  /** The byte size of an array of this dtype and shape, or -1 if a dimension is negative or it overflows. */
  static long byteSize(NpyDtype dtype, long[] shape) {
    long n = dtype.itemSize();
    for (long d : shape) {
      if (d < 0) {
        return -1;
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        return -1;
      }
    }
    return n;
  }

  /** A float32 matrix, rows x columns; every row must have the same length. */
  public static NdArray ofFloats(float[][] rows) {
    int cols = columns(rows);
    ByteBuffer b = allocate((long) rows.length * cols * 4);
    for (float[] r : rows) {
      b.asFloatBuffer().put(r);
      b.position(b.position() + r.length * 4);
    }
    return new NdArray(NpyDtype.FLOAT32, new long[] {rows.length, cols}, b.flip());
  }

  /** A float32 vector. */
  public static NdArray ofFloats(float[] values) {
    ByteBuffer b = allocate((long) values.length * 4);
    b.asFloatBuffer().put(values);
    return new NdArray(NpyDtype.FLOAT32, new long[] {values.length}, b);
  }

  /** A float64 matrix; every row must have the same length. */
  public static NdArray ofDoubles(double[][] rows) {
    int cols = columns(rows);
    ByteBuffer b = allocate((long) rows.length * cols * 8);
    for (double[] r : rows) {
      b.asDoubleBuffer().put(r);
      b.position(b.position() + r.length * 8);
    }
    return new NdArray(NpyDtype.FLOAT64, new long[] {rows.length, cols}, b.flip());
  }

  /** A float64 vector. */
  public static NdArray ofDoubles(double[] values) {
    ByteBuffer b = allocate((long) values.length * 8);
    b.asDoubleBuffer().put(values);
    return new NdArray(NpyDtype.FLOAT64, new long[] {values.length}, b);
  }

  /** An int64 vector. */
  public static NdArray ofLongs(long[] values) {
    ByteBuffer b = allocate((long) values.length * 8);
    b.asLongBuffer().put(values);
    return new NdArray(NpyDtype.INT64, new long[] {values.length}, b);
  }

  /** An int32 vector. */
  public static NdArray ofInts(int[] values) {
    ByteBuffer b = allocate((long) values.length * 4);
    b.asIntBuffer().put(values);
    return new NdArray(NpyDtype.INT32, new long[] {values.length}, b);
  }

  private static int columns(Object[] rows) {
    int cols = rows.length == 0 ? 0 : java.lang.reflect.Array.getLength(rows[0]);
    for (int i = 0; i < rows.length; i++) {
      int len = java.lang.reflect.Array.getLength(rows[i]);
      if (len != cols) {
        throw new IllegalArgumentException(
            String.format("ragged matrix: row %d has %d columns, row 0 has %d", i, len, cols));
      }
    }
    return cols;
  }

  private static ByteBuffer allocate(long bytes) {
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("array of " + bytes + " bytes is above 2 GiB");
    }
    return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The element type. */
  public NpyDtype dtype() {
    return dtype;
  }

  /** The shape (a copy): {@code []} for a scalar, {@code [n]} for a vector, {@code [rows, cols]}. */
  public long[] shape() {
    return shape.clone();
  }

  /** The number of dimensions. */
  public int ndim() {
    return shape.length;
  }

  /** The number of elements. */
  public long size() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** The elements, C order, little-endian: a fresh read-only view (position 0) of the shared bytes. */
  public ByteBuffer data() {
    return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The element bytes shared as they are, for encoders that copy them out. */
  ByteBuffer rawData() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A 2-D float array (float32 as is, float64 narrowed) copied out. */
  public float[][] toFloatMatrix() {
    int[] rc = matrixShape();
    float[][] out = new float[rc[0]][rc[1]];
    ByteBuffer b = rawData();
    for (int r = 0; r < rc[0]; r++) {
      if (dtype == NpyDtype.FLOAT32) {
        b.asFloatBuffer().get(out[r]);
        b.position(b.position() + rc[1] * 4);
      } else {
        for (int c = 0; c < rc[1]; c++) {
          out[r][c] = (float) number(b, (long) r * rc[1] + c);
        }
      }
    }
    return out;
  }

  /** A 2-D double array copied out (float32 widened; integers converted). */
  public double[][] toDoubleMatrix() {
    int[] rc = matrixShape();
    double[][] out = new double[rc[0]][rc[1]];
    ByteBuffer b = rawData();
    for (int r = 0; r < rc[0]; r++) {
      for (int c = 0; c < rc[1]; c++) {
        out[r][c] = number(b, (long) r * rc[1] + c);
      }
    }
    return out;
  }

  /** All elements in C order as floats (float64 narrowed). */
  public float[] toFloatArray() {
    float[] out = new float[checkedSize()];
    if (dtype == NpyDtype.FLOAT32) {
      rawData().asFloatBuffer().get(out);
    } else {
      ByteBuffer b = rawData();
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) number(b, i);
      }
    }
    return out;
  }

  /** All elements in C order as doubles. */
  public double[] toDoubleArray() {
    double[] out = new double[checkedSize()];
    ByteBuffer b = rawData();
    for (int i = 0; i < out.length; i++) {
      out[i] = number(b, i);
    }
    return out;
  }

  /** All elements in C order as longs; integer dtypes only. */
  public long[] toLongArray() {
    if (dtype.isFloat()) {
      throw new IllegalStateException("toLongArray() on a " + dtype.descr() + " array");
    }
    long[] out = new long[checkedSize()];
    ByteBuffer b = rawData();
    for (int i = 0; i < out.length; i++) {
      out[i] = dtype == NpyDtype.INT64 ? b.getLong(i * 8) : b.getInt(i * 4);
    }
    return out;
  }

  private static double number(ByteBuffer b, NpyDtype dtype, long index) {
    int i = Math.toIntExact(index * dtype.itemSize());
    switch (dtype) {
      case FLOAT32:
        return b.getFloat(i);
      case FLOAT64:
        return b.getDouble(i);
      case INT32:
        return b.getInt(i);
      default:
        return b.getLong(i);
    }
  }

  private double number(ByteBuffer b, long index) {
    return number(b, dtype, index);
  }

  private int[] matrixShape() {
    if (shape.length != 2) {
      throw new IllegalStateException("not a matrix: shape " + shapeRepr(shape));
    }
    return new int[] {Math.toIntExact(shape[0]), Math.toIntExact(shape[1])};
  }

  private int checkedSize() {
    return Math.toIntExact(size());
  }

  /** The shape as Python writes a tuple: {@code ()}, {@code (5,)}, {@code (2, 3)}. */
  static String shapeRepr(long[] shape) {
    if (shape.length == 1) {
      return "(" + shape[0] + ",)";
    }
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(shape[i]);
    }
    return sb.append(')').toString();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof NdArray)) {
      return false;
    }
    NdArray a = (NdArray) o;
    return dtype == a.dtype && Arrays.equals(shape, a.shape) && rawData().equals(a.rawData());
  }

  @Override
  public int hashCode() {
    return Objects.hash(dtype, Arrays.hashCode(shape), rawData());
  }

  @Override
  public String toString() {
    return "NdArray[" + dtype.descr() + " " + shapeRepr(shape) + "]";
  }
}
