package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.FlatMapElements;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.connector.worker.WorkerPools;
import org.dspex.beam.transforms.failures.Failures;
import org.dspex.beam.transforms.metrics.DSPexMetrics;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The fault guarantees on the path a production job takes: {@code DSPexPredict.ofProgram} over a
 * real {@code dspy.Module} ({@code dspex_transforms_testing.programs:faulty_qa}, a {@code
 * dspy.Predict} that kills its worker on a marker), {@code dspy.LM} over HTTP to the loopback LM
 * server, whose call counter says what was paid for.
 *
 * <p>The runner takes one bundle at a time, so one request is in flight at a time; in the crash
 * tests the worker also runs one element at a time ({@code withThreads(1)}), so when a marker kills
 * a worker no other LM call is in flight: every call the server counts is accounted for exactly.
 *
 * <p>The LM counters must say what the server saw: {@code lm_calls} every call it received once,
 * including those of a worker that died before reporting them (from the worker's usage ledger).
 *
 * <p>Loading DSPy makes a worker start take seconds, so the class holds warm pools ({@link
 * WorkerPools#acquire}), started together: one for the crash tests, one for the budget and rate
 * tests, one for the 10,000 elements (the test with calls in flight has a slow server, and a pool,
 * of its own). A test's transform must have its pool's worker configuration exactly (batch size
 * and attempts included); each test asks distinct questions.
 */
public class FaultsPipelineTest {
  @ClassRule public static final TemporaryFolder CLASS_TMP = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.fromOptions(oneBundleAtATime());

  private static final Schema QUESTIONS = Schema.builder().addInt64Field("id").addStringField("question").build();
  private static final Schema ANSWER = Schema.builder().addNullableField("answer", Schema.FieldType.STRING).build();
  private static LoopbackLmServer server;
  private static String markers;
  private static String sharedCache;
  private static final List<WorkerPool> WARM = new ArrayList<>();

  private static DirectOptions oneBundleAtATime() {
    DirectOptions options = PipelineOptionsFactory.as(DirectOptions.class);
    options.setTargetParallelism(1);
    return options;
  }

  @BeforeClass
  public static void startServerAndWarmPools() throws Exception {
    server = LoopbackLmServer.start();
    markers = CLASS_TMP.newFolder("markers").getAbsolutePath();
    sharedCache = CLASS_TMP.newFolder("lm-cache").getAbsolutePath();
    List<CompletableFuture<WorkerPool>> starting = new ArrayList<>();
    for (DSPexPredict t : List.of(crashing(), stalling(), calm(), lmFree())) {
      starting.add(CompletableFuture.supplyAsync(() -> {
        try {
          return WorkerPools.acquire(t.workerConfig());
        } catch (WorkerException e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    for (CompletableFuture<WorkerPool> f : starting) {
      WARM.add(f.join());
    }
  }

  @AfterClass
  public static void stopServerAndPools() throws Exception {
    WARM.forEach(WorkerPools::release);
    if (server != null) {
      server.close();
    }
  }

  @Before
  public void resetServer() throws Exception {
    server.reset();
  }

  /** The faulty program against the loopback server. */
  private static DSPexPredict faultyQa() {
    return faultyQa(server, Map.of("marker_dir", markers));
  }

  /** The faulty program against {@code lm}, with these program arguments. */
  private static DSPexPredict faultyQa(LoopbackLmServer lm, Map<String, ?> programArgs) {
    return DSPexPredict.ofProgram("dspex_transforms_testing.programs:faulty_qa")
        .withProgramArgs(programArgs)
        .withOutputSchema(ANSWER)
        .withModel("openai/loopback")
        .withApiBase(lm.apiBase())
        .withApiKeyEnv("DSPEX_TEST_SECRET")
        .withNumRetries(0)
        .withPython(TestSupport.python())
        .withPythonPath(TestSupport.testPythonPath())
        .withRestartBackoff(Duration.ofMillis(50));
  }

  /**
   * For the crash tests: one element at a time, and the DSPy LM cache in a directory every worker
   * shares, as a production job should have it: what a dead worker paid for is not paid again.
   */
  private static DSPexPredict crashing() {
    return faultyQa().withThreads(1).withCacheDir(sharedCache).withMaxBatchSize(16).withMaxAttempts(2);
  }

  /** For the stall test: as {@link #crashing()}, with a stall timeout far below the request timeout. */
  private static DSPexPredict stalling() {
    return crashing().withStallTimeout(Duration.ofSeconds(2));
  }

  /** For the budget and rate tests: DSPy's cache in each worker's own directory. */
  private static DSPexPredict calm() {
    return faultyQa().withMaxBatchSize(10);
  }

  /** For the 10,000 elements: the production handler over a program that answers without the LM. */
  private static DSPexPredict lmFree() {
    return DSPexPredict.ofProgram("dspex_testing.lms:failing_program")
        .withProgramArgs(Map.of("fail_on", "__FAIL__", "lm_free", true))
        .withOutputSchema(ANSWER)
        .withModel("openai/loopback")
        .withApiBase(server.apiBase())
        .withPython(TestSupport.python())
        .withPythonPath(TestSupport.workerTestingPath())
        .withMaxBatchSize(500);
  }

  /** {@code n} questions {@code <prefix>-q<i>}, the one at {@code markedAt} carrying {@code marker}. */
  private PCollection<Row> questions(String prefix, int n, int markedAt, String marker) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String q = prefix + "-q" + i + (i == markedAt ? " " + marker : "");
      rows.add(Row.withSchema(QUESTIONS).addValues((long) i, q).build());
    }
    return p.apply(Create.of(rows).withRowSchema(QUESTIONS));
  }

  /**
   * {@link #questions}, all in one bundle: made by one call of a DoFn, which the DirectRunner hands
   * on as one bundle (a {@code Create} of several elements is split into bundles of a few each).
   */
  private PCollection<Row> questionsInOneBundle(String prefix, int n, int markedAt, String marker) {
    return p.apply(Create.of(prefix))
        .apply(FlatMapElements.into(TypeDescriptors.rows()).via(x -> {
          List<Row> rows = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            String q = prefix + "-q" + i + (i == markedAt ? " " + marker : "");
            rows.add(Row.withSchema(QUESTIONS).addValues((long) i, q).build());
          }
          return rows;
        }))
        .setRowSchema(QUESTIONS);
  }

  private static MetricQueryResults metrics(PipelineResult result) {
    return result.metrics().queryMetrics(
        MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace(DSPexMetrics.NAMESPACE)).build());
  }

  private static PCollection<String> questionsOf(PCollection<Row> rows) {
    return rows.apply("Questions", MapElements.into(TypeDescriptors.strings()).via(r -> r.getString("question")));
  }

  @Test
  public void givenWorkerKilledMidBatch_thenEveryElementOutputOnceAndNoLmCallPaidTwice() throws Exception {
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      expected.add("kill-q" + i + (i == 30 ? " __CRASH_ONCE__" : ""));
    }
    // Elements the dead worker answered but had not reported when it died are answered from the
    // shared cache when they are sent again.
    DSPexResult r = questions("kill", 40, 30, "__CRASH_ONCE__").apply(crashing());
    // containsInAnyOrder of 40 distinct questions: an element output twice would fail it.
    PAssert.that(questionsOf(r.output())).containsInAnyOrder(expected);
    PAssert.that(r.output()).satisfies(rows -> {
      rows.forEach(row -> assertTrue(row.toString(), !row.getString("answer").isEmpty()));
      return null;
    });
    PAssert.that(r.failures()).empty();
    PipelineResult result = p.run();
    result.waitUntilFinish();

    // One LM call per element, the crashed one included: it died before its call the first time.
    assertEquals(40, server.chatCalls());
    assertTrue("the crash happened", new File(markers).list().length >= 1);
    MetricQueryResults m = metrics(result);
    assertLmCountersMatch(server, m);
    assertEquals(40, DSPexEmbedPipelineTest.counter(m, "elements"));
    assertEquals(0, DSPexEmbedPipelineTest.counter(m, "failed_elements"));
    assertTrue(DSPexEmbedPipelineTest.counter(m, "retries") >= 1);
    assertTrue(DSPexEmbedPipelineTest.counter(m, "failed_batches") >= 1);
    assertTrue(DSPexEmbedPipelineTest.counter(m, "worker_restarts") >= 1);
  }

  @Test(timeout = 120_000)
  public void givenWorkerStoppedMidBatch_thenItIsReplacedWithinTheStallTimeoutAndEveryElementOutputOnce()
      throws Exception {
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      expected.add("stop-q" + i + (i == 30 ? " __STOP_ONCE__" : ""));
    }
    // The stopped worker answers nothing, not even pings: without the stall watch its request
    // waited for the 5-minute request timeout.
    long t0 = System.nanoTime();
    DSPexResult r = questions("stop", 40, 30, "__STOP_ONCE__").apply(stalling());
    PAssert.that(questionsOf(r.output())).containsInAnyOrder(expected);
    PAssert.that(r.failures()).empty();
    PipelineResult result = p.run();
    result.waitUntilFinish();
    long seconds = java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

    assertEquals(40, server.chatCalls());
    assertTrue("took " + seconds + " s", seconds < 60);
    MetricQueryResults m = metrics(result);
    assertEquals(0, DSPexEmbedPipelineTest.counter(m, "failed_elements"));
    assertTrue(DSPexEmbedPipelineTest.counter(m, "retries") >= 1);
    assertTrue(DSPexEmbedPipelineTest.counter(m, "worker_restarts") >= 1);
  }

  /**
   * The LM counters say what the server answered: every call it received counted once ({@code
   * lm_calls}), and the tokens of every answer it sent.
   */
  private static void assertLmCountersMatch(LoopbackLmServer lm, MetricQueryResults m) throws Exception {
    assertEquals("lm_calls", lm.chatCalls(), DSPexEmbedPipelineTest.counter(m, "lm_calls"));
    assertEquals("lm_prompt_tokens", lm.stat("prompt_tokens"), DSPexEmbedPipelineTest.counter(m, "lm_prompt_tokens"));
    assertEquals("lm_completion_tokens", lm.stat("completion_tokens"),
        DSPexEmbedPipelineTest.counter(m, "lm_completion_tokens"));
  }

  @Test
  public void givenWorkerDiedAfterAnLmCallItNeverReported_thenTheLmCountersCountThatCall() throws Exception {
    // The marked element's LM call is answered, then its worker dies before the answer leaves it:
    // paid, in no chunk. Sent again, it is answered from the shared cache.
    DSPexResult r = questions("paid", 40, 30, "__DIE_AFTER_CALL__").apply(crashing());
    PAssert.thatSingleton(r.output().apply("Count", Count.globally())).isEqualTo(40L);
    PAssert.that(r.failures()).empty();
    PipelineResult result = p.run();
    result.waitUntilFinish();

    assertEquals(40, server.chatCalls());
    MetricQueryResults m = metrics(result);
    assertTrue(DSPexEmbedPipelineTest.counter(m, "worker_restarts") >= 1);
    assertLmCountersMatch(server, m);
  }

  @Test
  public void givenWorkerKilledWithLmCallsInFlight_thenLmCallsCountTheCallsTheServerReceived() throws Exception {
    // Four elements at once against a server that takes a second per answer: the marked one
    // SIGKILLs its worker while the other three's calls are at the server. Those three are received
    // (and billed) twice, the second time by the worker they are sent to again.
    try (LoopbackLmServer slow = LoopbackLmServer.start("--latency-ms", "1000")) {
      DSPexPredict inFlight = faultyQa(slow, Map.of("marker_dir", markers, "stats_url", slow.statsUrl(), "in_flight", 3))
          .withThreads(4).withMaxBatchSize(8);
      DSPexResult r = questionsInOneBundle("inflight", 8, 0, "__KILL_MID_CALLS__").apply(inFlight);
      PAssert.thatSingleton(r.output().apply("Count", Count.globally())).isEqualTo(8L);
      PAssert.that(r.failures()).empty();
      PipelineResult result = p.run();
      result.waitUntilFinish();

      MetricQueryResults m = metrics(result);
      assertTrue(DSPexEmbedPipelineTest.counter(m, "worker_restarts") >= 1);
      assertEquals(8 + 3, slow.chatCalls());
      assertEquals("lm_calls", slow.chatCalls(), DSPexEmbedPipelineTest.counter(m, "lm_calls"));
      // The tokens of an answer that never reached the worker are not known there.
      assertTrue(DSPexEmbedPipelineTest.counter(m, "lm_prompt_tokens") < slow.stat("prompt_tokens"));
    }
  }

  @Test
  public void givenPoisonElement_thenItAloneReachesFailuresWithItsAttemptsAndNoOtherCallIsRepeated() throws Exception {
    DSPexResult r = questions("poison", 16, 15, "__POISON__").apply(crashing());
    PAssert.that(r.output().apply("Count", Count.globally())).containsInAnyOrder(15L);
    PAssert.that(r.failures()).satisfies(fs -> {
      List<Row> l = new ArrayList<>();
      fs.forEach(l::add);
      assertEquals(1, l.size());
      Row f = l.get(0);
      assertEquals(Failures.WORKER_CRASHED, f.getString("error_type"));
      assertEquals("{\"id\":15,\"question\":\"poison-q15 __POISON__\"}", f.getString("element"));
      assertTrue("attempts " + f.getInt32("attempts"), f.getInt32("attempts") >= 2);
      assertTrue(f.getString("message"), f.getString("message").contains("exit code 9"));
      assertTrue(f.getString("worker"), f.getString("worker").startsWith("worker "));
      return null;
    });
    PipelineResult result = p.run();
    result.waitUntilFinish();
    // The poison never reached the LM; the bisection's re-sends were answered from the cache.
    assertEquals(15, server.chatCalls());
    assertLmCountersMatch(server, metrics(result));
  }

  @Test
  public void givenTokenBudget_thenRemainingElementsFailAsBudgetExhaustedWithoutLmCallsAndJobCompletes()
      throws Exception {
    long budget = 1_000;
    DSPexResult r = questions("budget", 60, -1, "")
        .apply(calm().withTokenBudget(budget));
    PAssert.that(r.failures()).satisfies(fs -> {
      for (Row f : fs) {
        assertEquals(Failures.BUDGET_EXHAUSTED, f.getString("error_type"));
        assertEquals(0, (int) f.getInt32("attempts"));
      }
      return null;
    });
    PAssert.thatSingleton(PCollectionListOf.flatten(r).apply("CountAll", Count.globally())).isEqualTo(60L);
    PipelineResult result = p.run();
    result.waitUntilFinish();

    MetricQueryResults m = metrics(result);
    long ok = DSPexEmbedPipelineTest.counter(m, "elements") - DSPexEmbedPipelineTest.counter(m, "failed_elements");
    long tokens = DSPexEmbedPipelineTest.counter(m, "lm_prompt_tokens")
        + DSPexEmbedPipelineTest.counter(m, "lm_completion_tokens");
    // Tokens as the server reported them (it counts words): the budget was really spent, and
    // then nothing more was sent: one LM call per output, none for the refused elements.
    assertTrue("tokens " + tokens, tokens >= budget);
    assertTrue("outputs " + ok, ok >= 1 && ok < 60);
    assertEquals(ok, server.chatCalls());
    assertEquals(ok, DSPexEmbedPipelineTest.counter(m, "lm_calls"));
    // One bundle at a time: the budget is overspent by at most one request (of up to 10).
    assertTrue("tokens " + tokens + " for " + ok, tokens - budget < 2 * 10 * (tokens / ok));
  }

  @Test
  public void givenMaxLmCallsPerSecond_thenTheServerSeesNoFasterCalls() throws Exception {
    DSPexResult r = questions("rate", 60, -1, "").apply(calm().withMaxLmCallsPerSecond(10));
    PAssert.thatSingleton(r.output().apply("Count", Count.globally())).isEqualTo(60L);
    p.run().waitUntilFinish();

    Map<String, Object> stats = server.stats();
    assertEquals(60L, ((Number) stats.get("chat_calls")).longValue());
    double span = ((Number) stats.get("last_call_s")).doubleValue() - ((Number) stats.get("first_call_s")).doubleValue();
    // 60 calls at 10/s with one second of burst, admitted 10 at a time: the last 10 are admitted
    // 4 s after the first. Unlimited, 60 calls on 8 threads take about a second.
    assertTrue("60 calls within " + span + " s", span >= 3.0);
  }

  @Test
  public void givenTenThousandElements_thenOutputPlusFailuresEqualsInputExactly() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      rows.add(Row.withSchema(QUESTIONS).addValues((long) i, "tenk-q" + i + (i % 100 == 7 ? " __FAIL__" : "")).build());
    }
    DSPexResult r = p.apply(Create.of(rows).withRowSchema(QUESTIONS)).apply(lmFree());
    PAssert.thatSingleton(r.output().apply("CountOk", Count.globally())).isEqualTo(9_900L);
    PAssert.that(r.output()).satisfies(out -> {
      out.forEach(x -> assertEquals(x.getString("question").toUpperCase(java.util.Locale.ROOT), x.getString("answer")));
      return null;
    });
    PAssert.thatSingleton(r.failures().apply("CountFailed", Count.globally())).isEqualTo(100L);
    PAssert.that(r.failures()).satisfies(fs -> {
      fs.forEach(f -> assertEquals("RuntimeError:1", f.getString("error_type") + ":" + f.getInt32("attempts")));
      return null;
    });
    p.run().waitUntilFinish();
  }
}
