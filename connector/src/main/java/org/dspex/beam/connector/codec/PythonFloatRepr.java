package org.dspex.beam.connector.codec;

import com.fasterxml.jackson.core.io.schubfach.DoubleToDecimal;
import java.math.BigDecimal;

/**
 * Formats a double exactly as Python's {@code repr(float)} does, the canonical JSON float of {@code
 * docs/protocol.md} section 3.1: the shortest decimal that reads back as the same double (the
 * closest one when several are that short), positional when the decimal exponent {@code e} (value
 * = {@code 0.d1...dn x 10^e}) satisfies {@code -4 < e <= 16}, else scientific with a signed,
 * at-least-two-digit exponent: {@code 1.0}, {@code 0.1}, {@code 1e-05}, {@code 1e+16}, {@code
 * 5e-324}.
 *
 * <p>Java 17's {@code Double.toString} sometimes prints a needless digit (JDK-4511638, fixed in
 * JDK 19), so the digits come from jackson-core's Schubfach implementation, which has the JDK 19
 * semantics: shortest, then closest.
 * One JDK 19 rule differs from Python: when a single digit would do, JDK 19 may prefer a closer
 * two-digit decimal ({@code 4.9E-324}); Python takes the single digit ({@code 5e-324}), and so do
 * we.
 */
public final class PythonFloatRepr {
  private PythonFloatRepr() {}

  /**
   * The Python {@code repr} of a finite double.
   *
   * @throws IllegalArgumentException for NaN and infinities, which have no JSON form
   */
  public static String format(double v) {
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException("no canonical JSON form for " + v);
    }
    if (v == 0.0) {
      return Double.doubleToRawLongBits(v) < 0 ? "-0.0" : "0.0";
    }
    Decimal d = shortest(Math.abs(v));
    return layout(v < 0, d.digits, d.pointPos);
  }

  /** Digits {@code d1..dn} (no leading or trailing zero) and the exponent of {@code 0.d1..dn}. */
  static final class Decimal {
    final String digits;
    final int pointPos;

    Decimal(String digits, int pointPos) {
      this.digits = digits;
      this.pointPos = pointPos;
    }
  }

  static Decimal shortest(double positive) {
    String s = DoubleToDecimal.toString(positive);
    int ePos = s.indexOf('E');
    int exp10 = ePos < 0 ? 0 : Integer.parseInt(s.substring(ePos + 1));
    String mantissa = ePos < 0 ? s : s.substring(0, ePos);
    int dot = mantissa.indexOf('.');
    String all = mantissa.substring(0, dot) + mantissa.substring(dot + 1);
    int pointPos = dot + exp10;
    int lead = 0;
    while (lead < all.length() - 1 && all.charAt(lead) == '0') {
      lead++;
    }
    int end = all.length();
    while (end > lead + 1 && all.charAt(end - 1) == '0') {
      end--;
    }
    Decimal d = new Decimal(all.substring(lead, end), pointPos - lead);
    return d.digits.length() == 2 ? preferOneDigit(positive, d) : d;
  }

  /** Python's rule where JDK 19 differs: a one-digit decimal that reads back wins over two digits. */
  private static Decimal preferOneDigit(double v, Decimal two) {
    int first = two.digits.charAt(0) - '0';
    Decimal down = new Decimal(String.valueOf(first), two.pointPos);
    Decimal up = first == 9 ? new Decimal("1", two.pointPos + 1) : new Decimal(String.valueOf(first + 1), two.pointPos);
    boolean downOk = readsBack(down, v);
    boolean upOk = readsBack(up, v);
    if (downOk && upOk) {
      BigDecimal exact = new BigDecimal(v);
      int cmp = value(down).subtract(exact).abs().compareTo(value(up).subtract(exact).abs());
      return cmp < 0 || (cmp == 0 && first % 2 == 0) ? down : up;
    }
    return downOk ? down : upOk ? up : two;
  }

  private static boolean readsBack(Decimal d, double v) {
    return Double.parseDouble("0." + d.digits + "E" + d.pointPos) == v;
  }

  private static BigDecimal value(Decimal d) {
    return new BigDecimal("0." + d.digits + "E" + d.pointPos);
  }

  static String layout(boolean negative, String digits, int pointPos) {
    StringBuilder sb = new StringBuilder(digits.length() + 8);
    if (negative) {
      sb.append('-');
    }
    int n = digits.length();
    if (pointPos > -4 && pointPos <= 16) {
      if (pointPos <= 0) {
        sb.append("0.");
        for (int i = pointPos; i < 0; i++) {
          sb.append('0');
        }
        sb.append(digits);
      } else if (pointPos >= n) {
        sb.append(digits);
        for (int i = n; i < pointPos; i++) {
          sb.append('0');
        }
        sb.append(".0");
      } else {
        sb.append(digits, 0, pointPos).append('.').append(digits, pointPos, n);
      }
      return sb.toString();
    }
    sb.append(digits.charAt(0));
    if (n > 1) {
      sb.append('.').append(digits, 1, n);
    }
    int exp = pointPos - 1;
    sb.append('e').append(exp < 0 ? '-' : '+');
    int abs = Math.abs(exp);
    if (abs < 10) {
      sb.append('0');
    }
    return sb.append(abs).toString();
  }
}
