package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.transforms.optimize.CompileFailedException;
import org.dspex.beam.transforms.optimize.OptimizeProgress;
import org.dspex.beam.transforms.optimize.OptimizeResult;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * DSPexOptimize on the DirectRunner with real workers and real DSPy optimizers: DSPy's DummyLM,
 * and the loopback OpenAI-compatible server, whose received prompts show that a compiled program
 * loaded by {@link DSPexPredict#withProgramState} sends its demos.
 */
public class DSPexOptimizePipelineTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** What the progress listener saw, by test (the DirectRunner runs the DoFn in this JVM). */
  static final List<OptimizeProgress> SEEN = new java.util.concurrent.CopyOnWriteArrayList<>();

  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();
  @ClassRule public static final LoopbackLmServer.Shared LM = new LoopbackLmServer.Shared();

  private static Row only(Iterable<Row> rows) {
    List<Row> l = new ArrayList<>();
    rows.forEach(l::add);
    assertEquals(1, l.size());
    return l.get(0);
  }

  private static long counter(PipelineResult result, String name) {
    long total = 0;
    for (MetricResult<Long> m : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named("dspex", name)).build()).getCounters()) {
      total += m.getAttempted();
    }
    return total;
  }

  @Test
  public void givenTheTrainsetAndLabeledFewShot_thenOneRowHoldsTheProgramWithDemosFromTheExamples() throws Exception {
    SEEN.clear();
    DSPexResult r = p.apply(Create.of(OptimizeExamples.rows()).withRowSchema(OptimizeExamples.SCHEMA))
        .apply(OptimizeExamples.dummyOptimize().withOptimizer("labeledfewshot").withOptimizerOption("k", 4)
            .withProgressListener(e -> SEEN.add(e)));
    Set<String> written = new TreeSet<>();
    for (Map<String, String> e : OptimizeExamples.records()) {
      written.add(e.get("question") + "=" + e.get("answer"));
    }
    PAssert.that(r.output()).satisfies(rows -> {
      Row row = only(rows);
      assertEquals("LabeledFewShot", row.getString("optimizer"));
      assertEquals(40L, (long) row.getInt64("trainset_size"));
      assertEquals(10L, (long) row.getInt64("devset_size"));
      assertEquals(4L, (long) row.getInt64("demos"));
      assertEquals(1.0, row.getDouble("dev_score_before"), 0);
      assertEquals(1.0, row.getDouble("dev_score_after"), 0);
      try {
        JsonNode demos = JSON.readTree(row.getString(OptimizeResult.PROGRAM_JSON)).get("demos");
        assertEquals(4, demos.size());
        for (JsonNode d : demos) {
          assertTrue(d.toString(), written.contains(d.get("question").asText() + "=" + d.get("answer").asText()));
        }
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
      return null;
    });
    PAssert.that(r.failures()).empty();
    p.run().waitUntilFinish();
    List<String> phases = new ArrayList<>();
    SEEN.stream().filter(e -> e.event().equals("phase")).forEach(e -> phases.add(e.phase()));
    assertEquals(List.of("evaluate_before", "compile", "evaluate_after", "save"), phases);
  }

  @Test
  public void givenTheLoopbackLm_whenBootstrapping_thenTheSavedProgramSendsItsDemosThroughDSPexPredict() throws Exception {
    SEEN.clear();
    LM.get().reset();
    File state = tmp.newFile("program.json");
    DSPexResult r = p.apply(Create.of(OptimizeExamples.rows().subList(0, 12)).withRowSchema(OptimizeExamples.SCHEMA))
        .apply(DSPexOptimize.of("question -> answer")
            .withOptimizer("BootstrapFewShot")
            .withOptimizerOptions(Map.of("max_bootstrapped_demos", 3, "max_labeled_demos", 3))
            .withMetric("exact")
            .withModel("openai/loopback").withApiBase(LM.get().apiBase()).withApiKeyEnv("DSPEX_TEST_SECRET")
            .withCache(false)
            .withDevFraction(0.25)
            .withSeed(3)
            .withProgressListener(e -> SEEN.add(e))
            .withPython(TestSupport.python()));
    String path = state.getAbsolutePath();
    PAssert.that(r.output()).satisfies(rows -> {
      Row row = only(rows);
      assertEquals(9L, (long) row.getInt64("trainset_size"));
      assertEquals(3L, (long) row.getInt64("devset_size"));
      assertEquals(3L, (long) row.getInt64("demos"));
      assertEquals(1.0, row.getDouble("dev_score_after"), 0);
      try {
        Files.writeString(Path.of(path), row.getString(OptimizeResult.PROGRAM_JSON), StandardCharsets.UTF_8);
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
      return null;
    });
    PipelineResult result = p.run();
    result.waitUntilFinish();
    Map<String, Object> stats = LM.get().stats();
    long calls = ((Number) stats.get("ok")).longValue();
    assertTrue("the compile called the LM: " + stats, calls > 0);
    assertEquals(calls, counter(result, "lm_calls"));
    assertEquals(((Number) stats.get("prompt_tokens")).longValue(), counter(result, "lm_prompt_tokens"));
    assertEquals(3, SEEN.stream().filter(e -> e.event().equals("demo")).count());

    JsonNode demos = JSON.readTree(state).get("demos");
    assertEquals(3, demos.size());
    LM.get().reset();
    Pipeline predict = Pipeline.create(p.getOptions());
    PCollection<Row> out = predict.apply(Create.of(KV.of("q", "What is the capital of Peru?")))
        .apply(DSPexPredict.of("question -> answer").withProgramState(path)
            .withModel("openai/loopback").withApiBase(LM.get().apiBase()).withApiKeyEnv("DSPEX_TEST_SECRET")
            .withCache(false).withPython(TestSupport.python()))
        .output();
    PAssert.that(out).satisfies(rows -> {
      assertNotNull(only(rows).getString("answer"));
      return null;
    });
    predict.run().waitUntilFinish();
    List<String> prompts = LM.get().prompts();
    assertEquals(1, prompts.size());
    for (JsonNode d : demos) {
      assertTrue("the prompt holds the demo " + d, prompts.get(0).contains(d.get("question").asText())
          && prompts.get(0).contains(d.get("answer").asText()));
    }
  }

  /** {@code n} distinct examples (the DummyLM knows none of them: LabeledFewShot calls no LM). */
  private static List<Row> manyRows(int n) {
    List<Row> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      rows.add(Row.withSchema(OptimizeExamples.SCHEMA).addValues("question " + i + "?", "answer " + i).build());
    }
    return rows;
  }

  private long compileMany(DSPexOptimize optimize, int n, String bytesCounter) throws Exception {
    DSPexResult r = p.apply(Create.of(manyRows(n)).withRowSchema(OptimizeExamples.SCHEMA))
        .apply(optimize.withOptimizer("LabeledFewShot").withOptimizerOption("k", 3).withDevFraction(0));
    PAssert.that(r.output()).satisfies(rows -> {
      Row row = only(rows);
      assertEquals((long) n, (long) row.getInt64("trainset_size"));
      assertEquals(3L, (long) row.getInt64("demos"));
      return null;
    });
    PipelineResult result = p.run();
    result.waitUntilFinish();
    return counter(result, bytesCounter);
  }

  @Test
  public void givenTwentyThousandExamples_thenTheyTravelAsOneArrowBody() throws Exception {
    long arrow = compileMany(OptimizeExamples.dummyOptimize(), 20_000, "bytes_arrow");
    assertTrue("20,000 examples of about 30 bytes as Arrow: " + arrow, arrow > 20_000L * 20);
  }

  @Test
  public void givenExamplesAboveTheRefThreshold_thenTheyTravelAsARefFile() throws Exception {
    long ref = compileMany(OptimizeExamples.dummyOptimize().withRefMinBytes(64 * 1024), 20_000, "bytes_ref");
    assertTrue("20,000 examples by REF: " + ref, ref > 20_000L * 20);
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> DSPexOptimize.of("q -> a").withRefMinBytes(0));
    assertEquals("withRefMinBytes: must be positive, was 0", zero.getMessage());
  }

  @Test
  public void givenExamplesMissingTheirLabel_thenTheyReachFailuresAndTheRestCompile() throws Exception {
    List<Row> rows = new ArrayList<>(OptimizeExamples.rows().subList(0, 6));
    rows.add(Row.withSchema(OptimizeExamples.SCHEMA).addValues("What is the capital of Nowhere?", null).build());
    rows.add(Row.withSchema(OptimizeExamples.SCHEMA).addValues(null, "Paris").build());
    DSPexResult r = p.apply(Create.of(rows).withRowSchema(OptimizeExamples.SCHEMA))
        .apply(OptimizeExamples.dummyOptimize().withOptimizer("LabeledFewShot").withDevFraction(0));
    PAssert.that(r.output()).satisfies(out -> {
      assertEquals(6L, (long) only(out).getInt64("trainset_size"));
      return null;
    });
    PAssert.that(r.failures()).satisfies(fs -> {
      List<String> messages = new ArrayList<>();
      fs.forEach(f -> messages.add(f.getString("error_type") + ": " + f.getString("message")));
      messages.sort(null);
      assertEquals(2, messages.size());
      assertTrue(messages.get(0), messages.get(0).startsWith("MissingField: field(s) answer missing or null"));
      assertTrue(messages.get(1), messages.get(1).startsWith("MissingField: field(s) question missing or null"));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void givenLabelsOfTheWrongType_thenEveryExampleFailsAndNothingCompiles() throws Exception {
    Schema numbers = Schema.builder().addStringField("question").addInt64Field("answer").build();
    DSPexResult r = p.apply(Create.of(Row.withSchema(numbers).addValues("How many legs has a cat?", 4L).build())
            .withRowSchema(numbers))
        .apply(OptimizeExamples.dummyOptimize().withOptimizer("LabeledFewShot"));
    PAssert.that(r.output()).empty();
    PAssert.that(r.failures()).satisfies(fs -> {
      Row f = only(fs);
      assertEquals("FieldTypeError", f.getString("error_type"));
      assertEquals("field 'answer' is str but the example holds a number '4'; the example was not used",
          f.getString("message"));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void givenAMetricThatRaises_thenThePipelineFailsNamingTheMetricAndTheWorker() throws Exception {
    p.apply(Create.of(OptimizeExamples.rows().subList(0, 5)).withRowSchema(OptimizeExamples.SCHEMA))
        .apply(OptimizeExamples.dummyOptimize().withMetric("dspex_testing.lms:raising_metric"));
    Pipeline.PipelineExecutionException e = assertThrows(Pipeline.PipelineExecutionException.class,
        () -> p.run().waitUntilFinish());
    Throwable c = e.getCause();
    assertTrue(String.valueOf(c), c instanceof CompileFailedException);
    assertEquals("MetricError", ((CompileFailedException) c).errorType());
    assertTrue(c.getMessage(), c.getMessage().startsWith("DSPexOptimize: the compile failed on worker "));
    assertTrue(c.getMessage(), c.getMessage().contains(
        "MetricError: metric 'dspex_testing.lms:raising_metric' raised ZeroDivisionError: division by zero"));
  }

  /** optuna is not in the worker lock (README, "MIPROv2 and optuna"): the setup says what to install, and how. */
  @Test
  public void givenMiproWithoutOptuna_thenTheWorkerSetupFailsNamingThePackageAndHowToInstallIt() throws Exception {
    org.junit.Assume.assumeFalse("optuna is installed in the test venv", TestSupport.pythonHas("optuna"));
    p.apply(Create.of(OptimizeExamples.rows().subList(0, 5)).withRowSchema(OptimizeExamples.SCHEMA))
        .apply(OptimizeExamples.dummyOptimize().withOptimizer("miprov2").withOptimizerOption("auto", "light"));
    // The DirectRunner wraps a failed DoFn setup in its DoFn cache's exception: read the whole chain.
    RuntimeException e = assertThrows(RuntimeException.class, () -> p.run().waitUntilFinish());
    StringBuilder chain = new StringBuilder();
    for (Throwable c = e; c != null; c = c.getCause()) {
      chain.append(c).append('\n');
    }
    String m = chain.toString();
    assertTrue(m, m.contains("ImportError: MIPROv2 needs the Python package 'optuna', which the worker's environment"
        + " does not have: install it into the worker's Python (pip install optuna), or into a directory"
        + " (pip install --target DIR optuna) given to the workers as withPythonPath / --python-path"));
    assertTrue(m, m.contains("worker 1 (pid "));
  }

  @Test
  public void givenBadSettings_thenTheyFailWhenSetOrBuiltNamingTheMethod() throws Exception {
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> DSPexOptimize.of("question -> answer").withOptimizer("Annealing"));
    assertEquals("withOptimizer: must be one of LabeledFewShot, BootstrapFewShot, BootstrapFewShotWithRandomSearch,"
        + " MIPROv2 (any case), was 'Annealing'", unknown.getMessage());
    assertEquals("MIPROv2", DSPexOptimize.optimizerName("mipro"));
    assertEquals("BootstrapFewShotWithRandomSearch", DSPexOptimize.optimizerName("Random-Search"));
    assertThrows(IllegalArgumentException.class, () -> DSPexOptimize.of("q -> a").withMetric("nonsense"));
    assertThrows(IllegalArgumentException.class, () -> DSPexOptimize.of("q -> a").withDevFraction(1));
    IllegalArgumentException noLabel = assertThrows(IllegalArgumentException.class,
        () -> p.apply(Create.of(OptimizeExamples.rows()).withRowSchema(OptimizeExamples.SCHEMA))
            .apply(OptimizeExamples.dummyOptimize().withLabelFields("confidence")));
    assertTrue(noLabel.getMessage(), noLabel.getMessage().startsWith(
        "withLabelFields: 'confidence' is not an output of the DSPexOptimize signature 'question -> answer'"));
    Schema questionsOnly = Schema.builder().addStringField("question").build();
    IllegalArgumentException noOutputs = assertThrows(IllegalArgumentException.class,
        () -> p.apply("Questions", Create.of(Row.withSchema(questionsOnly).addValue("q").build())
            .withRowSchema(questionsOnly)).apply(OptimizeExamples.dummyOptimize()));
    assertTrue(noOutputs.getMessage(), noOutputs.getMessage().contains("the examples hold none of its outputs [answer]"));
    p.enableAbandonedNodeEnforcement(false);
  }
}
