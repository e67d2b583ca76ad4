package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.dspex.beam.connector.worker.WorkerPool;
import org.junit.Rule;
import org.junit.Test;

/**
 * The production handlers end to end: real DSPy with {@code DummyLM} at the LM boundary, and the
 * bundled all-MiniLM-L6-v2 embedding model on ONNX Runtime (float32 and int8), with its thread budget.
 */
public class RealModelsPipelineTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  @Test
  public void givenDspyPredictWithDummyLm_thenKeyedTypedAnswers() {
    Map<String, Object> answers = Map.of(
        "capital of France", Map.of("answer", "Paris", "confidence", 0.9),
        "capital of Italy", Map.of("answer", "Rome", "confidence", 0.8));
    DSPexResult r = p.apply(Create.of(
            KV.of("fr", "What is the capital of France?"),
            KV.of("it", "What is the capital of Italy?"),
            KV.of("xx", "What is the meaning of life?")))
        .apply(DSPexPredict.of("question -> answer, confidence: float")
            .withLmFactory("dspex_testing.lms:dummy_lm",
                Map.of("answers", answers, "default", Map.of("answer", "unknown", "confidence", 0.1)))
            .withCache(false)
            .withPython(TestSupport.python()).withPythonPath(TestSupport.workerTestingPath()));
    assertEquals(Schema.TypeName.DOUBLE, r.output().getSchema().getField("confidence").getType().getTypeName());
    assertEquals(List.of("key", "question", "answer", "confidence"), r.output().getSchema().getFieldNames());
    PAssert.that(r.output().apply(MapElements.into(TypeDescriptors.strings())
            .via(x -> x.getString("key") + ":" + x.getString("answer") + ":" + x.getDouble("confidence"))))
        .containsInAnyOrder("fr:Paris:0.9", "it:Rome:0.8", "xx:unknown:0.1");
    PAssert.that(r.failures()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void givenMiniLm_thenUnitVectorsOf384KeyedAndSimilarTextsCloser() {
    DSPexResult r = embedSimilarTexts(
        DSPexEmbed.of("all-MiniLM-L6-v2").withNormalize(true).withPython(TestSupport.python()));
    assertEquals(Schema.FieldType.INT64, r.output().getSchema().getField("key").getType());
    p.run().waitUntilFinish();
  }

  /**
   * Two similar texts and an unrelated one through {@code embed}, asserting unit vectors of 384 and
   * the similar pair closer by a margin, and no failure.
   */
  private DSPexResult embedSimilarTexts(DSPexEmbed embed) {
    DSPexResult r = p.apply(Create.of(
            KV.of(1L, "A cat sits on the mat."),
            KV.of(2L, "A kitten is sitting on a rug."),
            KV.of(3L, "Quarterly revenue grew by eight percent.")))
        .apply(embed);
    PAssert.that(r.output()).satisfies(rows -> {
      Map<Long, float[]> v = vectors(rows);
      assertTrue(dot(v.get(1L), v.get(2L)) > dot(v.get(1L), v.get(3L)) + 0.2);
      return null;
    });
    PAssert.that(r.failures()).empty();
    return r;
  }

  @Test
  public void givenInt8Precision_thenTheWorkerRunsTheInt8GraphAndVectorsStayUnitAndSimilar() throws Exception {
    DSPexEmbed int8 = DSPexEmbed.of("all-MiniLM-L6-v2").withPrecision("int8").withNormalize(true)
        .withPython(TestSupport.python());
    try (WorkerPool pool = WorkerPool.create(int8.workerConfig())) {
      Map<String, Object> setup = pool.setupResults().get(0);
      assertEquals("onnx", setup.get("backend"));
      assertEquals("int8", setup.get("precision"));
      assertTrue(setup.toString(), String.valueOf(setup.get("graph")).endsWith("model.int8.onnx"));
    }
    embedSimilarTexts(int8);
    p.run().waitUntilFinish();
  }

  /**
   * More workers than cores: each gets max(1, cores / workers) threads (1 for 3 workers on this
   * 2-core machine), and its model's session starts no more. Seen from the OS: each worker of the
   * pool has as many threads as a lone worker given that count, and fewer than one given one more.
   */
  @Test
  public void givenThreeWorkersOnFewerCores_thenNoWorkerRunsMoreThreadsThanItsShare() throws Exception {
    org.junit.Assume.assumeTrue("counts threads in /proc", Files.isDirectory(Path.of("/proc/self/task")));
    DSPexEmbed embed = DSPexEmbed.of("all-MiniLM-L6-v2").withPython(TestSupport.python());
    int share = Math.max(1, Runtime.getRuntime().availableProcessors() / 3);
    List<Integer> three;
    try (WorkerPool pool = WorkerPool.create(embed.withWorkers(3).workerConfig())) {
      assertEquals(share, ((Number) pool.setupResults().get(0).get("threads")).intValue());
      three = threadCounts(pool, 3);
    }
    int alone;
    int wider;
    try (WorkerPool pool = WorkerPool.create(embed.withThreadsPerWorker(share).workerConfig())) {
      alone = threadCounts(pool, 1).get(0);
    }
    try (WorkerPool pool = WorkerPool.create(embed.withThreadsPerWorker(share + 1).workerConfig())) {
      assertEquals(share + 1, ((Number) pool.setupResults().get(0).get("threads")).intValue());
      wider = threadCounts(pool, 1).get(0);
    }
    assertEquals(List.of(alone, alone, alone), three);
    assertTrue(alone + " < " + wider, alone < wider);
  }

  /** The OS thread count of each of the pool's {@code n} workers, once all are set up. */
  private static List<Integer> threadCounts(WorkerPool pool, int n) throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (pool.pids().size() < n || pool.stats().workerStarts() < n) {
      assertTrue("workers set up: " + pool.stats(), System.nanoTime() < deadline);
      Thread.sleep(100);
    }
    List<Integer> counts = new ArrayList<>();
    for (long pid : pool.pids()) {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("Threads:")) {
          counts.add(Integer.parseInt(line.substring("Threads:".length()).trim()));
        }
      }
    }
    return counts;
  }

  private static Map<Long, float[]> vectors(Iterable<Row> rows) {
    Map<Long, float[]> v = new HashMap<>();
    for (Row row : rows) {
      List<Float> e = new ArrayList<>(row.<Float>getArray("embedding"));
      float[] a = new float[e.size()];
      double norm = 0;
      for (int i = 0; i < a.length; i++) {
        a[i] = e.get(i);
        norm += a[i] * a[i];
      }
      assertEquals(384, a.length);
      assertEquals(1.0, Math.sqrt(norm), 1e-3);
      v.put(row.getInt64("key"), a);
    }
    assertEquals(3, v.size());
    return v;
  }

  @Test
  public void givenProgramWithoutOutputSchema_thenSchemaReadFromProgramAndItsErrorsFailAlone() {
    DSPexPredict t = DSPexPredict.ofProgram("dspex_testing.lms:failing_program")
        .withLmFactory("dspex_testing.lms:dummy_lm", Map.of("default", Map.of("answer", "fine")))
        .withCache(false)
        .withPython(TestSupport.python()).withPythonPath(TestSupport.workerTestingPath());
    DSPexResult r = p.apply(Create.of("all good", "this goes boom")).apply(t);
    assertEquals(List.of("question", "answer"), r.output().getSchema().getFieldNames());
    PAssert.that(r.output().apply("Answers", MapElements.into(TypeDescriptors.strings())
        .via(x -> x.getString("question") + "=" + x.getString("answer")))).containsInAnyOrder("all good=fine");
    PAssert.that(r.failures().apply("Failures", MapElements.into(TypeDescriptors.strings())
        .via(f -> f.getString("error_type") + ":" + f.getInt32("attempts")))).containsInAnyOrder("RuntimeError:1");
    p.run().waitUntilFinish();
  }

  @Test
  public void givenAnAnswerNoFormatCanCarry_thenItFailsAloneOnItsFirstAttempt() {
    List<String> questions = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      questions.add(i == 5 ? "an emoji for question 5" : "question " + i);
    }
    DSPexResult r = p.apply(Create.of(questions)).apply(DSPexPredict.of("question -> answer")
        .withLmFactory("dspex_testing.lms:half_surrogate_lm",
            Map.of("on", "emoji", "default", Map.of("answer", "fine")))
        .withCache(false)
        .withPython(TestSupport.python()).withPythonPath(TestSupport.workerTestingPath()));
    PAssert.that(r.output().apply("Answers", MapElements.into(TypeDescriptors.strings())
        .via(x -> x.getString("answer")))).containsInAnyOrder(java.util.Collections.nCopies(11, "fine"));
    PAssert.that(r.failures()).satisfies(fs -> {
      List<Row> l = new ArrayList<>();
      fs.forEach(l::add);
      assertEquals(1, l.size());
      Row f = l.get(0);
      assertEquals("OutputEncodingError", f.getString("error_type"));
      assertEquals("{\"question\":\"an emoji for question 5\"}", f.getString("element"));
      // Sent once: not retried, not bisected, so its LM call and its batch's were paid once.
      assertEquals(1, (int) f.getInt32("attempts"));
      assertTrue(f.getString("message"), f.getString("message").contains("'fine \\ud83d'"));
      assertTrue(f.getString("worker"), f.getString("worker").startsWith("worker "));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void givenForcedArrowProtocol_thenBatchesTravelAsArrowAndAnswersAreTyped() {
    List<String> questions = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      questions.add("question " + i);
    }
    DSPexResult r = p.apply(Create.of(questions)).apply(DSPexPredict.of("question -> answer, n: int, tags: list[str]")
        .withLmFactory("dspex_testing.lms:dummy_lm",
            Map.of("default", Map.of("answer", "a", "n", 3, "tags", List.of("x", "y"))))
        .withCache(false)
        .withFormat("arrow")
        .withPython(TestSupport.python()).withPythonPath(TestSupport.workerTestingPath()));
    PAssert.that(r.output()).satisfies(rows -> {
      int n = 0;
      for (Row row : rows) {
        assertEquals(3L, (long) row.getInt64("n"));
        assertEquals(List.of("x", "y"), new ArrayList<>(row.<String>getArray("tags")));
        n++;
      }
      assertEquals(20, n);
      return null;
    });
    org.apache.beam.sdk.PipelineResult result = p.run();
    result.waitUntilFinish();
    org.apache.beam.sdk.metrics.MetricQueryResults m = result.metrics().queryMetrics(
        org.apache.beam.sdk.metrics.MetricsFilter.builder().build());
    assertTrue(DSPexEmbedPipelineTest.counter(m, "bytes_arrow") > 0);
    assertEquals(0, DSPexEmbedPipelineTest.counter(m, "bytes_msgpack"));
    assertEquals(20, DSPexEmbedPipelineTest.counter(m, "lm_calls"));
  }

  @Test
  public void givenProgramWithOutputSchema_thenNoWorkerAtExpandAndExtraInputFieldsIgnoredByTheProgram() {
    Schema in = Schema.builder().addInt64Field("id").addStringField("question").build();
    Schema outputs = Schema.builder().addNullableField("answer", Schema.FieldType.STRING).build();
    DSPexResult r = p.apply(Create.of(Row.withSchema(in).addValues(1L, "q1").build()).withRowSchema(in))
        .apply(DSPexPredict.ofProgram("dspex_testing.lms:failing_program")
            .withOutputSchema(outputs)
            .withLmFactory("dspex_testing.lms:dummy_lm", Map.of("default", Map.of("answer", "yes")))
            .withCache(false)
            .withPython(TestSupport.python()).withPythonPath(TestSupport.workerTestingPath()));
    assertEquals(List.of("id", "question", "answer"), r.output().getSchema().getFieldNames());
    PAssert.that(r.output().apply("Answers", MapElements.into(TypeDescriptors.strings())
        .via(x -> x.getInt64("id") + ":" + x.getString("answer")))).containsInAnyOrder("1:yes");
    p.run().waitUntilFinish();
  }

  @Test
  public void givenChainOfThought_thenReasoningFieldBeforeTheOutputs() {
    DSPexResult r = p.apply(Create.of("why is the sky blue?"))
        .apply(DSPexPredict.of("question -> answer").withChainOfThought(true)
            .withLmFactory("dspex_testing.lms:dummy_lm",
                Map.of("default", Map.of("reasoning", "light scatters", "answer", "Rayleigh")))
            .withCache(false)
            .withPython(TestSupport.python()).withPythonPath(TestSupport.workerTestingPath()));
    assertEquals(List.of("question", "reasoning", "answer"), r.output().getSchema().getFieldNames());
    PAssert.that(r.output().apply("Both", MapElements.into(TypeDescriptors.strings())
        .via(x -> x.getString("reasoning") + "|" + x.getString("answer")))).containsInAnyOrder("light scatters|Rayleigh");
    p.run().waitUntilFinish();
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
