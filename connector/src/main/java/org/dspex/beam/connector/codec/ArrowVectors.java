package org.dspex.beam.connector.codec;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarBinaryVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.NullVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.UInt2Vector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.LargeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.Field;

/**
 * Moves values between the shared value model and Arrow vectors: the writer fills the vectors of
 * an inferred schema; the reader turns every accepted column type (section 3.3, including the
 * narrower and wider variants other writers produce) back into {@code Long}, {@code Double},
 * {@code String}, {@code Boolean}, {@code byte[]} and lists.
 */
final class ArrowVectors {
  private ArrowVectors() {}

  /** Sets row {@code i} of {@code v} (of the type the inference chose) to {@code value}. */
  static void set(FieldVector v, int i, Object value) {
    if (value == null) {
      if (!(v instanceof NullVector)) {
        v.setNull(i);
      }
      return;
    }
    if (v instanceof BigIntVector) {
      ((BigIntVector) v).setSafe(i, ((Number) value).longValue());
    } else if (v instanceof Float8Vector) {
      ((Float8Vector) v).setSafe(i, ((Number) value).doubleValue());
    } else if (v instanceof VarCharVector) {
      String s = (String) value;
      Strings.checkNoUnpairedSurrogate(s);
      ((VarCharVector) v).setSafe(i, s.getBytes(StandardCharsets.UTF_8));
    } else if (v instanceof BitVector) {
      ((BitVector) v).setSafe(i, (Boolean) value ? 1 : 0);
    } else if (v instanceof VarBinaryVector) {
      ((VarBinaryVector) v).setSafe(i, (byte[]) value);
    } else if (v instanceof ListVector) {
      ListVector lv = (ListVector) v;
      FieldVector child = lv.getDataVector();
      List<?> items = (List<?>) value;
      int start = lv.startNewValue(i);
      for (int k = 0; k < items.size(); k++) {
        set(child, start + k, items.get(k));
      }
      // The child's value count is set once, from the offsets, by ListVector.setValueCount when
      // the row count is set: per row it would cost a pass over the child's bookkeeping each time.
      lv.endValue(i, items.size());
    } else {
      throw new IllegalStateException("no writer for " + v.getClass().getSimpleName());
    }
  }

  /**
   * Why a column's type cannot be decoded, or {@code null} when it can; the caller names the column
   * so that a sender learns which one to change.
   */
  static String unsupported(Field f) {
    if (f.getDictionary() != null) {
      // The vector would hold dictionary indexes, not values.
      return "dictionary-encoded " + ArrowTable.typeName(f);
    }
    switch (f.getType().getTypeID()) {
      case Int:
      case Utf8:
      case LargeUtf8:
      case Bool:
      case Binary:
      case LargeBinary:
      case Null:
        return null;
      case FloatingPoint:
        return ArrowTable.typeName(f).equals("float16") ? "float16" : null;
      case List:
      case LargeList:
      case FixedSizeList:
        {
          Field child = f.getChildren().get(0);
          String inner = unsupported(child);
          if (inner != null) {
            return inner;
          }
          switch (child.getType().getTypeID()) {
            case List:
            case LargeList:
            case FixedSizeList:
              return "nested list " + ArrowTable.typeName(f);
            default:
              return null;
          }
        }
      default:
        return ArrowTable.typeName(f);
    }
  }

  /** Row {@code i} of {@code v} in the value model. */
  static Object get(ValueVector v, int i) {
    if (v.isNull(i)) {
      return null;
    }
    switch (v.getMinorType()) {
      case BIGINT:
        return ((BigIntVector) v).get(i);
      case INT:
        return (long) ((IntVector) v).get(i);
      case SMALLINT:
        return (long) ((SmallIntVector) v).get(i);
      case TINYINT:
        return (long) ((TinyIntVector) v).get(i);
      case UINT1:
        return (long) Byte.toUnsignedInt(((UInt1Vector) v).get(i));
      case UINT2:
        return (long) ((UInt2Vector) v).get(i);
      case UINT4:
        return Integer.toUnsignedLong(((UInt4Vector) v).get(i));
      case FLOAT8:
        return ((Float8Vector) v).get(i);
      case FLOAT4:
        return (double) ((Float4Vector) v).get(i);
      case VARCHAR:
        return new String(((VarCharVector) v).get(i), StandardCharsets.UTF_8);
      case LARGEVARCHAR:
        return new String(((LargeVarCharVector) v).get(i), StandardCharsets.UTF_8);
      case BIT:
        return ((BitVector) v).get(i) != 0;
      case VARBINARY:
        return ((VarBinaryVector) v).get(i);
      case LARGEVARBINARY:
        return ((LargeVarBinaryVector) v).get(i);
      case NULL:
        return null;
      case LIST:
        {
          ListVector lv = (ListVector) v;
          return slice(lv.getDataVector(), lv.getElementStartIndex(i), lv.getElementEndIndex(i));
        }
      case LARGELIST:
        {
          LargeListVector lv = (LargeListVector) v;
          return slice(
              lv.getDataVector(),
              Math.toIntExact(lv.getElementStartIndex(i)),
              Math.toIntExact(lv.getElementEndIndex(i)));
        }
      case FIXED_SIZE_LIST:
        {
          FixedSizeListVector lv = (FixedSizeListVector) v;
          int n = lv.getListSize();
          return slice(lv.getDataVector(), i * n, i * n + n);
        }
      default:
        throw new IllegalStateException("unsupported Arrow type " + v.getMinorType());
    }
  }

  private static List<Object> slice(ValueVector child, int start, int end) {
    List<Object> out = new ArrayList<>(end - start);
    for (int k = start; k < end; k++) {
      out.add(get(child, k));
    }
    return out;
  }

  /** Appends the rows of the loaded vectors to {@code rows} as records in column order. */
  static void appendRows(List<FieldVector> vectors, int rowCount, List<Map<String, Object>> rows) {
    int n = vectors.size();
    String[] names = new String[n];
    for (int c = 0; c < n; c++) {
      names[c] = vectors.get(c).getName();
    }
    for (int i = 0; i < rowCount; i++) {
      Map<String, Object> record = new java.util.LinkedHashMap<>(Math.max(4, n * 4 / 3 + 1));
      for (int c = 0; c < n; c++) {
        record.put(names[c], get(vectors.get(c), i));
      }
      rows.add(record);
    }
  }
}
