package org.dspex.beam.pipelines.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.transforms.signature.FieldType;
import org.junit.jupiter.api.Test;

/** Records to typed rows: required, optional and renamed fields, wrong types, inference. */
class RecordLayoutTest {
  private static final RecordLayout LAYOUT = RecordLayout.of(List.of(
      new RecordLayout.Column("text", FieldType.STR, true),
      new RecordLayout.Column("n", FieldType.parse("int"), false),
      new RecordLayout.Column("gold", "answer", FieldType.STR, true)));

  private static SourceRecord record(Map<String, Object> fields) {
    return SourceRecord.parsed(4, Json.write(fields), new LinkedHashMap<>(fields));
  }

  @Test
  void givenAGoodRecord_thenTheRowHoldsTypedValuesAndTheBookkeeping() throws Exception {
    Row r = LAYOUT.toRow(record(Map.of("text", "hi", "n", 3, "answer", "yes")), "f.jsonl");
    assertEquals("hi", r.getString("text"));
    assertEquals(3L, r.getInt64("n"));
    assertEquals("yes", r.getString("gold"));
    assertEquals(4L, r.getInt64(RecordLayout.LINE));
    assertEquals("f.jsonl", r.getString(RecordLayout.FILE));
  }

  @Test
  void givenAMissingOptionalField_thenItIsNull() throws Exception {
    assertNull(LAYOUT.toRow(record(Map.of("text", "hi", "answer", "a")), "f").getInt64("n"));
  }

  @Test
  void givenAMissingOrNullRequiredField_thenMissingField() {
    Map<String, Object> nullText = new LinkedHashMap<>();
    nullText.put("text", null);
    nullText.put("answer", "a");
    RecordLayout.FieldException e = assertThrows(RecordLayout.FieldException.class,
        () -> LAYOUT.toRow(record(nullText), "f"));
    assertEquals(RecordLayout.MISSING_FIELD, e.type());
    assertEquals("field 'text' is null", e.getMessage());
    e = assertThrows(RecordLayout.FieldException.class, () -> LAYOUT.toRow(record(Map.of("text", "t")), "f"));
    assertEquals("field 'answer' is missing", e.getMessage());
  }

  @Test
  void givenANumberForAStringOrTextForAnInt_thenFieldTypeError() {
    RecordLayout.FieldException e = assertThrows(RecordLayout.FieldException.class,
        () -> LAYOUT.toRow(record(Map.of("text", 42, "answer", "a")), "f"));
    assertEquals(RecordLayout.FIELD_TYPE, e.type());
    assertEquals("field 'text' must be a string, was a number 42", e.getMessage());
    e = assertThrows(RecordLayout.FieldException.class,
        () -> LAYOUT.toRow(record(Map.of("text", "t", "n", "many", "answer", "a")), "f"));
    assertEquals(RecordLayout.FIELD_TYPE, e.type());
  }

  @Test
  void givenSamples_thenTheFirstValueDecidesAndIntegersWidenToFloats() {
    assertEquals(FieldType.STR, Inference.infer(Arrays.asList(null, "a", 1)));
    assertEquals(FieldType.parse("float"), Inference.infer(List.of(1, 2.5)));
    assertEquals(FieldType.parse("list[str]"), Inference.infer(List.of(List.of("a", "b"))));
    assertEquals(FieldType.Kind.JSON, Inference.infer(List.of(Map.of("a", 1))).kind());
    assertEquals(FieldType.STR, Inference.infer(Arrays.asList(null, null)));
  }
}
