package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.dspex.beam.transforms.metrics.DSPexMetrics;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;

/**
 * Identical inputs are sent once and every element that had them gets the answer (or the failure)
 * of the one sent, counted against the real LM path: {@code dspy.LM} over HTTP to the loopback
 * server, whose own counter says how many calls it answered. DSPy's cache is off, so only the
 * deduplication can save a call.
 */
public class DeduplicationPipelineTest {
  private static final String[][] QA = {
      {"What is the capital of France?", "Paris"}, {"What is the capital of Japan?", "Tokyo"},
      {"What is the capital of Italy?", "Rome"}};
  private static final String MALFORMED = "Say something __DSPEX_MALFORMED__";
  private static final int COPIES = 7;

  @Rule public final transient TestPipeline p = TestPipeline.create();
  @ClassRule public static final LoopbackLmServer.Shared LM = new LoopbackLmServer.Shared();

  /** COPIES of each QA question and of a question the server answers out of format, interleaved. */
  private static List<KV<String, String>> questions() {
    List<KV<String, String>> l = new ArrayList<>();
    for (int copy = 0; copy < COPIES; copy++) {
      for (int q = 0; q < QA.length; q++) {
        l.add(KV.of("q" + q + "-" + copy, QA[q][0]));
      }
      l.add(KV.of("bad-" + copy, MALFORMED));
    }
    return l;
  }

  private DSPexPredict predict() {
    return DSPexPredict.of("question -> answer")
        .withModel("openai/loopback")
        .withApiBase(LM.get().apiBase())
        .withApiKeyEnv("DSPEX_TEST_SECRET")
        .withNumRetries(0)
        .withCache(false)
        .withWorkers(2)
        .withMaxBatchSize(2)
        .withPython(TestSupport.python());
  }

  private long chatCalls() throws Exception {
    return ((Number) LM.get().stats().get("chat_calls")).longValue();
  }

  @Test
  public void givenRepeatedQuestionsAcrossBundles_thenEachIsAskedOnceAndEveryCopyGetsItsOutcome() throws Exception {
    // Two runner threads: copies land in other bundles and DoFn instances than their leaders.
    p.getOptions().as(DirectOptions.class).setTargetParallelism(2);
    long before = chatCalls();
    DSPexResult r = p.apply(Create.of(questions())).apply(predict());
    List<String> expected = new ArrayList<>();
    List<String> expectedFailures = new ArrayList<>();
    for (int copy = 0; copy < COPIES; copy++) {
      for (int q = 0; q < QA.length; q++) {
        expected.add("q" + q + "-" + copy + "=" + QA[q][1]);
      }
      expectedFailures.add("bad-" + copy);
    }
    PAssert.that(r.output().apply("Answers", MapElements.into(TypeDescriptors.strings())
            .via(x -> x.getString("key") + "=" + x.getString("answer"))))
        .containsInAnyOrder(expected);
    // The copies of a failed element fail too, each naming its own element.
    PAssert.that(r.failures().apply("Failed", MapElements.into(TypeDescriptors.strings())
            .via(f -> f.getString("element").replaceAll(".*\"key\":\"([^\"]+)\".*", "$1"))))
        .containsInAnyOrder(expectedFailures);
    PipelineResult result = p.run();
    result.waitUntilFinish();

    int distinct = QA.length + 1;
    // The malformed answer makes DSPy retry once with its JSON adapter: two calls for that input.
    assertEquals(distinct + 1, chatCalls() - before);
    assertEquals((long) (COPIES - 1) * distinct, dedupHits(result));
  }

  @Test
  public void givenDeduplicationOff_thenEveryElementIsAsked() throws Exception {
    long before = chatCalls();
    DSPexResult r = p.apply(Create.of(questions())).apply(predict().withDeduplication(false));
    PAssert.that(r.failures().apply("Failed", MapElements.into(TypeDescriptors.strings()).via(f -> "x")))
        .containsInAnyOrder(java.util.Collections.nCopies(COPIES, "x"));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertEquals((long) COPIES * (QA.length + 2), chatCalls() - before);
    assertEquals(0, dedupHits(result));
  }

  private static long dedupHits(PipelineResult result) {
    long n = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(DSPexMetrics.NAMESPACE, "dedup_hits")).build()).getCounters()) {
      n += c.getAttempted();
    }
    return n;
  }
}
