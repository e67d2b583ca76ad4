package org.dspex.beam.connector.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PythonFloatReprTest {
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "0.1, 0.1",
    "1.0, 1.0",
    "1e-05, 1e-05",
    "0.0001, 0.0001",
    "1e+16, 1e+16",
    "1000000000000000.0, 1000000000000000.0",
    "9999999999999998.0, 9999999999999998.0",
    "5e-324, 5e-324",
    "2.2250738585072014e-308, 2.2250738585072014e-308",
    "1.7976931348623157e+308, 1.7976931348623157e+308",
    "-0.0, -0.0",
    "0.0, 0.0",
    "1e22, 1e+22",
    "0.30000000000000004, 0.30000000000000004",
    "-2.5, -2.5",
    "100.0, 100.0",
    "1234.5, 1234.5",
    "1.5e300, 1.5e+300",
    "123456789.123, 123456789.123",
    "1.2345678901234567e19, 1.2345678901234567e+19",
    "-1.5e-10, -1.5e-10",
    "9007199254740992.0, 9007199254740992.0",
    "1e23, 1e+23",
    "2e-323, 2e-323",
  })
  void givenDouble_thenPythonRepr(double value, String repr) {
    assertEquals(repr, PythonFloatRepr.format(value));
  }

  @Test
  void givenNonFinite_thenRefused() {
    assertThrows(IllegalArgumentException.class, () -> PythonFloatRepr.format(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> PythonFloatRepr.format(Double.POSITIVE_INFINITY));
  }

  /**
   * For random doubles (random bits, random decimals, subnormals): the text reads back as the same
   * double and no decimal with one digit fewer does, i.e. the digits are the shortest.
   */
  @Test
  void givenRandomDoubles_thenTextReadsBackAndIsShortest() {
    SplittableRandom random = new SplittableRandom(20261126);
    for (int i = 0; i < 100_000; i++) {
      double d;
      switch (i % 3) {
        case 0:
          d = Double.longBitsToDouble(random.nextLong());
          break;
        case 1:
          d = random.nextDouble() * Math.pow(10, random.nextInt(-30, 30));
          break;
        default:
          d = Double.longBitsToDouble(random.nextLong() & 0x001fffffffffffffL);
      }
      if (!Double.isFinite(d) || d == 0) {
        continue;
      }
      String text = PythonFloatRepr.format(d);
      assertEquals(d, Double.parseDouble(text), text);
      BigDecimal exact = new BigDecimal(text.replace("e", "E"));
      int digits = exact.stripTrailingZeros().precision();
      if (digits > 1) {
        BigDecimal down = exact.round(new java.math.MathContext(digits - 1, java.math.RoundingMode.DOWN));
        BigDecimal up = exact.round(new java.math.MathContext(digits - 1, java.math.RoundingMode.UP));
        assertTrue(down.doubleValue() != d && up.doubleValue() != d, text + " has a needless digit");
      }
    }
  }
}
