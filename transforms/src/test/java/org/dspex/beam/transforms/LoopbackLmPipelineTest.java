package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;

/**
 * The LM path a production job takes: {@code dspy.LM} (litellm) over HTTP to an OpenAI-compatible
 * server, here the project's loopback server, with the key read from a named environment variable.
 */
public class LoopbackLmPipelineTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @ClassRule public static final LoopbackLmServer.Shared LM = new LoopbackLmServer.Shared();

  @Test
  public void givenOpenAiCompatibleServer_thenKnownQuestionsGetTheirAnswersAndMalformedAnswerFailsAlone() {
    DSPexResult r = p.apply(Create.of(
            KV.of("qa-001", "What is the capital of France?"),
            KV.of("qa-002", "What is the capital of Japan?"),
            KV.of("bad", "Say something __DSPEX_MALFORMED__")))
        .apply(DSPexPredict.of("question -> answer")
            .withModel("openai/loopback")
            .withApiBase(LM.get().apiBase())
            .withApiKeyEnv("DSPEX_TEST_SECRET")
            .withNumRetries(0)
            .withCache(false)
            .withPython(TestSupport.python()));
    PAssert.that(r.output().apply("Answers", MapElements.into(TypeDescriptors.strings())
            .via(x -> x.getString("key") + "=" + x.getString("answer"))))
        .containsInAnyOrder("qa-001=Paris", "qa-002=Tokyo");
    PAssert.that(r.failures()).satisfies(fs -> {
      List<Row> l = new ArrayList<>();
      fs.forEach(l::add);
      assertEquals(1, l.size());
      assertEquals(true, l.get(0).getString("element").contains("\"key\":\"bad\""));
      assertEquals(false, l.get(0).getString("message").contains(System.getenv("DSPEX_TEST_SECRET")));
      // An element failure the worker reported names the worker (not only crashes do).
      assertTrue(l.get(0).getString("worker"), String.valueOf(l.get(0).getString("worker")).startsWith("worker "));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void givenOneRunnerThreadAndThreeWorkers_thenAllThreeWorkersCallTheLmAtOnce() throws Exception {
    // One DirectRunner thread means one DoFn instance: it alone must keep every worker busy.
    p.getOptions().as(DirectOptions.class).setTargetParallelism(1);
    List<String> questions = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      questions.add("Question number " + i + "?");
    }
    try (LoopbackLmServer slow = LoopbackLmServer.start("--latency-ms", "400")) {
      DSPexResult r = p.apply(Create.of(questions))
          .apply(DSPexPredict.of("question -> answer")
              .withModel("openai/loopback")
              .withApiBase(slow.apiBase())
              .withApiKeyEnv("DSPEX_TEST_SECRET")
              .withNumRetries(0)
              .withCache(false)
              .withWorkers(3)
              .withThreads(1)
              .withMaxBatchSize(1)
              .withPython(TestSupport.python()));
      PAssert.that(r.output().apply("Count", Count.globally())).containsInAnyOrder(24L);
      PAssert.that(r.failures()).empty();
      p.run().waitUntilFinish();
      Map<String, Object> stats = slow.stats();
      assertEquals(24L, ((Number) stats.get("chat_calls")).longValue());
      // Three workers of one LM thread each: three calls at once, never more.
      assertEquals(3, ((Number) stats.get("max_in_flight")).intValue());
    }
  }

  @Test
  public void givenOpenAiEmbeddingsBackend_thenVectorsOfTheServersDimension() {
    DSPexResult r = p.apply(Create.of("one", "two", "three"))
        .apply(DSPexEmbed.of("loopback-embed")
            .withOpenAiBackend(LM.get().apiBase())
            .withApiKeyEnv("DSPEX_TEST_SECRET")
            .withPython(TestSupport.python()));
    PAssert.that(r.output().apply("Dims", MapElements.into(TypeDescriptors.strings())
            .via(x -> x.getString("text") + ":" + x.getArray("embedding").size())))
        .containsInAnyOrder("one:32", "two:32", "three:32");
    PAssert.that(r.failures()).empty();
    p.run().waitUntilFinish();
  }
}
