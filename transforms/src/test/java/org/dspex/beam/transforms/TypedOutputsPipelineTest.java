package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;

/**
 * A program's list outputs declared with {@code withOutputSchema} arrive as the Beam types the
 * schema names ({@code ARRAY<INT64>}, {@code ARRAY<DOUBLE>}, {@code ARRAY<BOOLEAN>}), through a
 * real worker and a real {@code dspy.Module} ({@code dspex_transforms_testing.programs:typed_lists},
 * which computes its lists without an LM).
 */
public class TypedOutputsPipelineTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final Schema LISTS = Schema.builder()
      .addNullableField("counts", Schema.FieldType.array(Schema.FieldType.INT64))
      .addNullableField("scores", Schema.FieldType.array(Schema.FieldType.DOUBLE))
      .addNullableField("flags", Schema.FieldType.array(Schema.FieldType.BOOLEAN))
      .build();

  @Test
  public void givenOutputSchemaWithIntFloatAndBoolLists_thenOutputsArriveTyped() {
    Schema in = Schema.builder().addStringField("question").build();
    DSPexResult r = p.apply(Create.of(Row.withSchema(in).addValue("abcd").build(),
            Row.withSchema(in).addValue("xyz").build()).withRowSchema(in))
        .apply(DSPexPredict.ofProgram("dspex_transforms_testing.programs:typed_lists")
            .withOutputSchema(LISTS)
            // Configured but never called: the program computes its lists (port 9 refuses).
            .withModel("openai/never-called")
            .withApiBase("http://127.0.0.1:9/v1")
            .withCache(false)
            .withPython(TestSupport.python())
            .withPythonPath(TestSupport.testPythonPath()));
    Schema out = r.output().getSchema();
    assertEquals(Schema.TypeName.INT64, out.getField("counts").getType().getCollectionElementType().getTypeName());
    assertEquals(Schema.TypeName.DOUBLE, out.getField("scores").getType().getCollectionElementType().getTypeName());
    assertEquals(Schema.TypeName.BOOLEAN, out.getField("flags").getType().getCollectionElementType().getTypeName());
    PAssert.that(r.failures()).empty();
    PAssert.that(r.output()).satisfies(rows -> {
      int n = 0;
      for (Row row : rows) {
        long len = row.getString("question").length();
        assertEquals(List.of(len, 2 * len), new ArrayList<>(row.<Long>getArray("counts")));
        assertEquals(List.of(len / 2.0, 0.25), new ArrayList<>(row.<Double>getArray("scores")));
        assertEquals(List.of(len % 2 == 0, true), new ArrayList<>(row.<Boolean>getArray("flags")));
        n++;
      }
      assertEquals(2, n);
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void givenOutputSchemaWithAMapField_thenRefusedNamingTheFieldAndTheSupportedTypes() {
    Schema bad = Schema.builder()
        .addNullableField("m", Schema.FieldType.map(Schema.FieldType.STRING, Schema.FieldType.STRING))
        .build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.apply(Create.of("q")).apply(DSPexPredict.ofProgram("pkg:build").withModel("openai/m").withOutputSchema(bad)));
    assertTrue(e.getMessage(), e.getMessage().contains("withOutputSchema: field 'm'"));
    assertTrue(e.getMessage(), e.getMessage().contains("ARRAY of one of them"));
    p.enableAbandonedNodeEnforcement(false);
  }
}
