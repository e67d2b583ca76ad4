package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.errorhandling.BadRecord;
import org.apache.beam.sdk.transforms.errorhandling.ErrorHandler.BadRecordErrorHandler;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.dspex.beam.transforms.failures.Failures;
import org.junit.Rule;
import org.junit.Test;

/**
 * DSPexPredict on the DirectRunner, served by the fake predict handler (answers computed from
 * inputs): the Java side of the contract (typed outputs and their checks, failure routing, secrets,
 * input types). The fault guarantees run on real DSPy in {@link FaultsPipelineTest}.
 */
public class DSPexPredictPipelineTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final Schema QUESTIONS = Schema.builder().addInt64Field("id").addStringField("question").build();

  private PCollection<Row> questions(List<String> texts) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      rows.add(Row.withSchema(QUESTIONS).addValues((long) i, texts.get(i)).build());
    }
    return p.apply(Create.of(rows).withRowSchema(QUESTIONS));
  }

  @Test
  public void givenRowsAndTypedSignature_thenOutputRowsCarryInputFieldsAndTypedOutputs() {
    DSPexResult r = questions(List.of("hello")).apply(TestSupport.fakePredict(
        "question -> answer, n: int, score: float, ok: bool, tags: list[str], label: Literal['yes', 'no']"));
    Schema expected = Schema.builder()
        .addInt64Field("id").addStringField("question")
        .addNullableField("answer", Schema.FieldType.STRING)
        .addNullableField("n", Schema.FieldType.INT64)
        .addNullableField("score", Schema.FieldType.DOUBLE)
        .addNullableField("ok", Schema.FieldType.BOOLEAN)
        .addNullableField("tags", Schema.FieldType.array(Schema.FieldType.STRING))
        .addNullableField("label", Schema.FieldType.STRING)
        .build();
    assertEquals(expected, r.output().getSchema());
    PAssert.that(r.output()).containsInAnyOrder(Row.withSchema(expected)
        .addValues(0L, "hello", "answer(hello)", 5L, 0.5, true, List.of("hello", "tags"), "yes").build());
    PAssert.that(r.failures()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void givenStringsAndWrongTypedAnswer_thenBadAnswerFailsAloneAsOutputTypeError() {
    PCollection<String> in = p.apply(Create.of("fine", "__BADTYPE__"));
    DSPexResult r = in.apply(TestSupport.fakePredict("question -> n: int"));
    PAssert.that(r.output().apply("Texts", MapElements.into(TypeDescriptors.strings())
        .via(x -> x.getString("question") + "=" + x.getInt64("n")))).containsInAnyOrder("fine=4");
    PAssert.that(r.failures().apply("Types", MapElements.into(TypeDescriptors.strings())
        .via(f -> f.getString("error_type")))).containsInAnyOrder(Failures.OUTPUT_TYPE);
    p.run().waitUntilFinish();
  }

  /** Counts the bad records it receives. */
  static final class CountBadRecords extends PTransform<PCollection<BadRecord>, PCollection<Long>> {
    @Override
    public PCollection<Long> expand(PCollection<BadRecord> input) {
      return input.apply(Count.globally());
    }
  }

  @Test
  public void givenBadRecordHandler_thenFailuresGoThereAndFailuresIsEmpty() {
    DSPexResult r;
    BadRecordErrorHandler<PCollection<Long>> errors = p.registerBadRecordErrorHandler(new CountBadRecords());
    r = questions(List.of("a", "b __FAIL__", "c __FAIL__")).apply(TestSupport.fakePredict("question -> answer")
        .withBadRecordErrorHandler(errors));
    errors.close();
    PAssert.that(r.output().apply("Count", Count.globally())).containsInAnyOrder(1L);
    PAssert.that(r.failures()).empty();
    PAssert.thatSingleton(errors.getOutput()).isEqualTo(2L);
    p.run().waitUntilFinish();
  }

  @Test
  public void givenApiKeyEnv_thenKeyValueNeverInFailureRowsNorInTheSerializedTransform() {
    String secret = System.getenv("DSPEX_TEST_SECRET");
    assertTrue("surefire sets DSPEX_TEST_SECRET", secret != null && !secret.isEmpty());
    DSPexPredict t = TestSupport.fakePredict("question -> answer").withApiKeyEnv("DSPEX_TEST_SECRET");
    byte[] serialized = org.apache.beam.sdk.util.SerializableUtils.serializeToByteArray(t);
    assertTrue(!new String(serialized, StandardCharsets.ISO_8859_1).contains(secret));
    DSPexResult r = p.apply(Create.of("ok", "key __LEAK__")).apply(t);
    PAssert.that(r.failures()).satisfies(fs -> {
      for (Row f : fs) {
        assertTrue(f.getString("message"), f.getString("message").contains("bad key ***"));
        assertTrue(!f.toString().contains(secret));
      }
      return null;
    });
    PAssert.thatSingleton(r.output().apply("Count", Count.globally())).isEqualTo(1L);
    p.run().waitUntilFinish();
  }

  /** A POJO with a Beam schema, as users' element types are. */
  @org.apache.beam.sdk.schemas.annotations.DefaultSchema(org.apache.beam.sdk.schemas.JavaFieldSchema.class)
  public static class Question implements java.io.Serializable {
    public long id;
    public String question;

    public Question() {}

    Question(long id, String question) {
      this.id = id;
      this.question = question;
    }
  }

  @Test
  public void givenSchemaPojos_thenFieldsMatchedByNameAndCarriedToOutputRows() {
    DSPexResult r = p.apply(Create.of(new Question(7, "why"), new Question(8, "how")))
        .apply(TestSupport.fakePredict("question -> answer"));
    PAssert.that(r.output().apply("Ids", MapElements.into(TypeDescriptors.strings())
        .via(x -> x.getInt64("id") + ":" + x.getString("answer")))).containsInAnyOrder("7:answer(why)", "8:answer(how)");
    p.run().waitUntilFinish();
  }

  @Test
  public void givenNoUsableInterpreter_thenTheRunFailsWithTheStartReason() {
    p.apply(Create.of("q")).apply(TestSupport.fakePredict("question -> answer").withPython("/nonexistent/python3"));
    // The DirectRunner reports a failed @Setup in its own wrapper; the cause is what matters.
    RuntimeException e = org.junit.Assert.assertThrows(RuntimeException.class, () -> p.run());
    Throwable c = e;
    while (c.getCause() != null && !(c instanceof org.dspex.beam.connector.worker.WorkerStartException)) {
      c = c.getCause();
    }
    assertTrue(String.valueOf(c), c instanceof org.dspex.beam.connector.worker.WorkerStartException);
    assertTrue(c.getMessage(), c.getMessage().contains("/nonexistent/python3"));
  }
}
