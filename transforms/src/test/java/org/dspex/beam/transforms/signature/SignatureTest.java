package org.dspex.beam.transforms.signature;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.junit.Test;

public class SignatureTest {
  @Test
  public void givenTypedSignature_thenInputNamesAndTypedOutputSchema() {
    Signature s = Signature.parse(
        "question, context: list[str] -> answer, confidence: float, n: int, ok: bool,"
            + " tags: list[str], label: Literal['yes', 'no, maybe']");
    assertEquals(List.of("question", "context"), s.inputNames());
    Schema out = s.outputSchema();
    assertEquals(List.of("answer", "confidence", "n", "ok", "tags", "label"), out.getFieldNames());
    assertEquals(Schema.TypeName.STRING, out.getField("answer").getType().getTypeName());
    assertEquals(Schema.TypeName.DOUBLE, out.getField("confidence").getType().getTypeName());
    assertEquals(Schema.TypeName.INT64, out.getField("n").getType().getTypeName());
    assertEquals(Schema.TypeName.BOOLEAN, out.getField("ok").getType().getTypeName());
    assertEquals(Schema.FieldType.array(Schema.FieldType.STRING).withNullable(true), out.getField("tags").getType());
    assertEquals(Schema.TypeName.STRING, out.getField("label").getType().getTypeName());
    assertEquals(List.of("yes", "no, maybe"), s.outputs().get(5).type().literals());
  }

  @Test
  public void givenFieldWithoutType_thenStr() {
    assertEquals(FieldType.Kind.STR, Signature.parse("q -> a").outputs().get(0).type().kind());
  }

  @Test
  public void givenUnsupportedType_thenMessageNamesTypeAndSupportedOnes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Signature.parse("q -> a: dict[str, int]"));
    assertThat(e.getMessage(), containsString("dict[str, int]"));
    assertThat(e.getMessage(), containsString("list[str]"));
  }

  @Test
  public void givenNoArrow_thenMessageSaysSo() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Signature.parse("q, a"));
    assertThat(e.getMessage(), containsString("'->'"));
  }

  @Test
  public void givenDuplicateOrEmptyOrBadName_thenRefused() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> Signature.parse("q -> q")).getMessage(),
        containsString("'q' appears twice"));
    assertThrows(IllegalArgumentException.class, () -> Signature.parse("q, -> a"));
    assertThrows(IllegalArgumentException.class, () -> Signature.parse("-> a"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> Signature.parse("my q -> a")).getMessage(),
        containsString("'my q' is not a valid field name"));
  }

  @Test
  public void givenWorkerValues_thenConvertedOrRefusedByType() {
    assertEquals(3L, ValueConversion.toBeam("n", FieldType.parse("int"), 3));
    assertEquals(3L, ValueConversion.toBeam("n", FieldType.parse("int"), " 3"));
    assertEquals(0.5, ValueConversion.toBeam("c", FieldType.parse("float"), "0.5"));
    assertEquals(List.of("a", "1"), ValueConversion.toBeam("t", FieldType.parse("list[str]"), List.of("a", 1)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ValueConversion.toBeam("n", FieldType.parse("int"), "many"));
    assertThat(e.getMessage(), containsString("'n' is int"));
  }
}
