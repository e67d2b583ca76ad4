package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.dspex.beam.transforms.BatchApi;
import org.dspex.beam.transforms.DSPexPredict;

/**
 * {@code bench/run predict-cost}: what {@value #QUESTIONS} questions, one in ten a repeat of an
 * earlier one, cost against the loopback LM server, counted by the server (requests, prompt and
 * completion tokens) and priced at a provider's list prices ({@link #PRICES}), one DSPexPredict
 * pipeline per mode on the DirectRunner:
 *
 * <ul>
 *   <li>{@code live}: every element sent, DSPy's cache off (what a loop over the records pays);
 *   <li>{@code live-dedup}: the default, identical inputs asked once (DSPy's cache off, so only the
 *       deduplication saves);
 *   <li>{@code batch-api}: the default plus {@code withBatchApi}: the calls go through the server's
 *       OpenAI-shaped Batch API ({@value #BATCH_DELAY_S} s until a batch completes), priced at the
 *       Batch API's half price.
 * </ul>
 *
 * Measures, never asserts.
 */
final class PredictCostBench {
  static final int QUESTIONS = 2000;
  static final int LATENCY_MS = 20;
  static final int THREADS = 16;
  static final String KEY_ENV = PredictBench.KEY_ENV;
  static final int BATCH_DELAY_S = 2;

  /**
   * OpenAI's list prices for gpt-4o-mini, USD per million tokens (openai.com/api/pricing, as
   * published since July 2024): live input 0.15 and output 0.60; the Batch API bills half.
   */
  static final Map<String, Object> PRICES = Map.of(
      "model", "gpt-4o-mini", "source", "openai.com/api/pricing (list prices since 2024-07)",
      "live_input_usd_per_million", 0.15, "live_output_usd_per_million", 0.60,
      "batch_input_usd_per_million", 0.075, "batch_output_usd_per_million", 0.30);

  private final BenchEnvironment env;

  PredictCostBench(BenchEnvironment env) {
    this.env = env;
  }

  /** {@value #QUESTIONS} questions; every tenth a copy of a random earlier one (seeded). */
  static List<String> questions() {
    Random random = new Random(42);
    List<String> q = new ArrayList<>();
    for (int i = 0; i < QUESTIONS; i++) {
      q.add(i % 10 == 9 ? q.get(random.nextInt(i)) : "In one word, what comes to mind for topic " + i + "?");
    }
    return q;
  }

  void run() throws Exception {
    if (System.getenv(KEY_ENV) == null) {
      throw new IllegalStateException(KEY_ENV + " must be set (bench/run sets it)");
    }
    List<String> questions = questions();
    long distinct = questions.stream().distinct().count();
    List<Map<String, Object>> rows = new ArrayList<>();
    try (LoopbackServer server = LoopbackServer.start(env, LATENCY_MS, 1800, "--batch-delay-s",
        Integer.toString(BATCH_DELAY_S))) {
      DSPexPredict predict = DSPexPredict.of("question -> answer").withModel("openai/loopback")
          .withApiBase(server.apiBase()).withApiKeyEnv(KEY_ENV).withNumRetries(0).withCache(false)
          .withThreads(THREADS)
          .withPython(env.python().toString()).withPythonPath(env.root().resolve("python").toString());
      rows.add(live(server, "live", predict.withDeduplication(false), questions));
      rows.add(live(server, "live-dedup", predict, questions));
      Path state = Files.createTempDirectory(env.root().resolve("bench/work"), "predict-cost-").resolve("batches.json");
      rows.add(batch(server, predict.withBatchApi(BatchApi.openAi().withPollInterval(Duration.ofSeconds(1))
          .withStateFile(state.toString())), questions));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("machine", BenchEnvironment.machine());
    out.put("questions", QUESTIONS);
    out.put("distinct_questions", distinct);
    out.put("rows", rows);
    out.put("prices", PRICES);
    out.put("setup", String.format("loopback server --latency-ms %d; DSPexPredict('question -> answer') on the "
        + "DirectRunner, 1 worker, withThreads(%d), DSPy cache off, num_retries 0; one pipeline per mode; "
        + "lm_requests, prompt_tokens and completion_tokens as the server counted them (its counters reset "
        + "before each mode); batch-api: withBatchApi(BatchApi.openAi().withPollInterval(1 s)), the server's batches "
        + "complete %d s after creation; cost at the list prices in 'prices' (batch-api at the Batch API's)",
        LATENCY_MS, THREADS, BATCH_DELAY_S));
    EmbedBench.write("predict-cost", out);
  }

  private static Map<String, Object> live(LoopbackServer server, String mode, DSPexPredict predict,
      List<String> questions) throws Exception {
    server.reset();
    PipelineRun.Result r = PipelineRun.run(questions, predict, PipelineRun.Parallelism.ONE_THREAD);
    if (r.outputs() != questions.size()) {
      throw new IllegalStateException(mode + ": " + r.outputs() + " outputs for " + questions.size() + " questions");
    }
    JsonNode s = server.stats();
    return row(mode, s.get("chat_calls").asLong(), s.get("prompt_tokens").asLong(),
        s.get("completion_tokens").asLong(), r.wallSeconds(), false);
  }

  private static Map<String, Object> batch(LoopbackServer server, DSPexPredict predict, List<String> questions)
      throws Exception {
    server.reset();
    PipelineRun.Result r = PipelineRun.run(questions, predict, PipelineRun.Parallelism.ONE_THREAD);
    if (r.outputs() != questions.size()) {
      throw new IllegalStateException("batch-api: " + r.outputs() + " outputs for " + questions.size() + " questions");
    }
    JsonNode s = server.stats();
    JsonNode b = s.get("batch");
    Map<String, Object> row = row("batch-api", b.get("batch_requests").asLong() + s.get("chat_calls").asLong(),
        b.get("prompt_tokens").asLong() + s.get("prompt_tokens").asLong(),
        b.get("completion_tokens").asLong() + s.get("completion_tokens").asLong(), r.wallSeconds(), true);
    row.put("batches", b.get("batches_created").asLong());
    row.put("live_calls", s.get("chat_calls").asLong());
    return row;
  }

  /** One row of the result, its cost at list prices ({@code batch}: the Batch API's). */
  static Map<String, Object> row(String mode, long requests, long promptTokens, long completionTokens,
      double seconds, boolean batch) {
    double in = (Double) PRICES.get(batch ? "batch_input_usd_per_million" : "live_input_usd_per_million");
    double outPrice = (Double) PRICES.get(batch ? "batch_output_usd_per_million" : "live_output_usd_per_million");
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("mode", mode);
    row.put("lm_requests", requests);
    row.put("prompt_tokens", promptTokens);
    row.put("completion_tokens", completionTokens);
    row.put("seconds", EmbedBench.round(seconds));
    row.put("cost_usd_at_list_price", Math.round((promptTokens * in + completionTokens * outPrice) / 1e6 * 1e6) / 1e6);
    return row;
  }
}
