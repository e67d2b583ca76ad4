package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.transforms.DSPexPredict;

/**
 * {@code bench/run predict}: {@value #QUESTIONS} questions (testdata/qa/qa.jsonl cycled) against the
 * loopback LM server with {@value #LATENCY_MS} ms per call, DSPy's cache off on both sides: {@code
 * dspy.Predict("question -> answer").batch(num_threads=16)} in one Python process ({@code
 * bench/py/predict_direct.py}) vs {@code DSPexPredict} on the DirectRunner with 1 worker and
 * withThreads(16), i.e. 16 LM calls in flight on each side, in {@value #ROUNDS} rounds of {@link
 * AlternatingRounds}; the server's counters are reset before each timed run and read after it, to
 * show every question made one call. Measures, never asserts.
 */
final class PredictBench {
  static final int QUESTIONS = 1000;
  static final int THREADS = 16;
  static final int LATENCY_MS = 50;
  static final int BATCH = 256;
  static final String KEY_ENV = "DSPEX_BENCH_API_KEY";
  /** Alternating rounds of one direct run and one DSPex pipeline. */
  static final int ROUNDS = 3;

  private final BenchEnvironment env;
  private final ObjectMapper json = new ObjectMapper();

  PredictBench(BenchEnvironment env) {
    this.env = env;
  }

  void run() throws Exception {
    Path qa = env.root().resolve("testdata/qa/qa.jsonl");
    List<String> set = new ArrayList<>();
    for (String line : Files.readAllLines(qa)) {
      if (!line.isBlank()) {
        set.add(json.readTree(line).get("question").asText());
      }
    }
    List<String> questions = new ArrayList<>();
    for (int i = 0; i < QUESTIONS; i++) {
      questions.add(set.get(i % set.size()));
    }
    try (LoopbackServer server = LoopbackServer.start(env, LATENCY_MS, 1200)) {
      String apiBase = server.apiBase();

      if (System.getenv(KEY_ENV) == null) {
        throw new IllegalStateException(KEY_ENV + " must be set (bench/run sets it)");
      }
      DSPexPredict predict = DSPexPredict.of("question -> answer").withModel("openai/loopback")
          .withApiBase(apiBase).withApiKeyEnv(KEY_ENV).withNumRetries(0).withCache(false)
          .withWorkers(1).withThreads(THREADS).withMaxBatchSize(BATCH)
          .withPython(env.python().toString()).withPythonPath(env.root().resolve("python").toString());
      // Both sides warm up on the whole set: the JVM's JIT was still compiling after a 200-question
      // warm-up (its C2 threads took ~1.3 CPU s of the timed run); Python has no JIT to warm.
      Peer batch = new Peer("dspy_batch", env.python(), "predict_direct.py", List.of(qa.toString(), apiBase,
          "--questions", Integer.toString(QUESTIONS), "--warmup", Integer.toString(QUESTIONS),
          "--threads", Integer.toString(THREADS)));
      AlternatingRounds.Result r = AlternatingRounds.run(env, List.of(batch), predict, questions, ROUNDS,
          new ServerCalls(server));
      PeerPasses direct = r.peer(batch.name());
      HeldPoolRun timed = r.dspex();
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("machine", BenchEnvironment.machine());
      out.put("questions", QUESTIONS);
      out.put("dspy_batch_per_s", EmbedBench.round(direct.perSecond()));
      out.put("dspex_per_s", EmbedBench.round(timed.perSecond()));
      out.put("ratio", EmbedBench.round(r.ratio(direct)));
      out.put("rounds", ROUNDS);
      out.put("round_ratios", r.roundRatios(direct));
      out.put("ideal_per_s", EmbedBench.round(THREADS * 1000.0 / LATENCY_MS));
      out.put("dspy_batch_seconds", EmbedBench.round(direct.seconds()));
      out.put("dspy_batch_answered", direct.sumRounded("answered"));
      out.put("dspy_batch_server_calls", direct.count());
      out.put("dspex_seconds", EmbedBench.round(timed.run().seconds()));
      out.put("dspex_outputs", timed.run().outputs());
      out.put("dspex_server_calls", r.dspexCount());
      out.put("dspex_pipeline_wall_seconds", EmbedBench.round(timed.run().wallSeconds()));
      out.put("dspex_warmup_seconds", EmbedBench.round(r.warm().seconds()));
      out.put("dspy_batch_warmup_seconds", EmbedBench.round(direct.warm().get("warmup_s").asDouble()));
      out.put("dspex_worker_start_and_setup_seconds", EmbedBench.round(r.setupSeconds()));
      out.put("dspy_batch_cpu_seconds", EmbedBench.round(direct.cpuSeconds()));
      out.put("dspex_jvm_cpu_seconds", EmbedBench.round(timed.jvmCpuSeconds()));
      out.put("dspex_jvm_cpu_seconds_in_timed_span", EmbedBench.round(timed.run().jvmCpuSecondsInSpan()));
      out.put("dspex_worker_cpu_seconds", EmbedBench.round(timed.workerCpuSeconds()));
      out.put("held_pool_requests_in_timed_run", timed.requests());
      out.put("held_pool_worker_starts_in_timed_run", timed.workerStarts());
      r.runnerDefault().putAsRunnerDefault(out, direct.perSecond());
      out.put("runner_default_dspex_server_calls", r.runnerDefaultCount());
      out.put("setup", String.format("loopback server --latency-ms %d; cache=False, num_retries=0 on both sides; "
          + "direct = dspy.Predict.batch(num_threads=%d) in 1 Python process; DSPex = DSPexPredict on the DirectRunner, "
          + "1 worker, withThreads(%d), maxBatchSize %d, DirectRunner targetParallelism 1 (runner_default_*: the same "
          + "pipeline once more with the runner's default thread count), first element into the transform to last "
          + "output, pool held (worker start and DSPy setup excluded). Both sides warm up once on the same %d "
          + "questions, then %d rounds alternate one timed direct run and one timed DSPex pipeline (rates and ratio "
          + "over all rounds; server calls summed)", LATENCY_MS, THREADS, THREADS, BATCH, QUESTIONS, ROUNDS));
      EmbedBench.write("predict", out);
    }
  }

  /** The loopback server's chat calls per timed pass: counters reset before, read after. */
  private static final class ServerCalls implements AlternatingRounds.PassCounter {
    private final LoopbackServer server;

    ServerCalls(LoopbackServer server) {
      this.server = server;
    }

    @Override
    public void reset() throws Exception {
      server.reset();
    }

    @Override
    public long count() throws Exception {
      return server.stats().get("chat_calls").asLong();
    }
  }
}
