package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.connector.worker.WorkerPools;
import org.dspex.beam.transforms.DSPexPredict;

/**
 * {@code bench/run predict}: {@value #QUESTIONS} questions (testdata/qa/qa.jsonl cycled) against the
 * loopback LM server with {@value #LATENCY_MS} ms per call, DSPy's cache off on both sides: {@code
 * dspy.Predict("question -> answer").batch(num_threads=16)} in one Python process ({@code
 * bench/py/predict_direct.py}) vs {@code DSPexPredict} on the DirectRunner with 1 worker and
 * withThreads(16), i.e. 16 LM calls in flight on each side. Each side first runs the same questions once as a
 * warm-up (DSPex: a warm-up pipeline with the pool held across both, as in {@link EmbedBench}); the server's counters are reset
 * before each timed run and read after it, to show every question made one call. Measures, never
 * asserts.
 */
final class PredictBench {
  static final int QUESTIONS = 1000;
  static final int THREADS = 16;
  static final int LATENCY_MS = 50;
  static final int BATCH = 256;
  static final String KEY_ENV = "DSPEX_BENCH_API_KEY";

  private final BenchEnvironment env;
  private final HttpClient http = HttpClient.newHttpClient();
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
    ProcessBuilder spb = new ProcessBuilder(env.python().toString(), "-m", "dspex_worker.testing.lm_server",
        "--latency-ms", Integer.toString(LATENCY_MS), "--max-seconds", "1200", "--exit-on-stdin-eof");
    spb.environment().put("PYTHONPATH", env.root().resolve("python").toString());
    spb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process server = spb.start();
    try {
      BufferedReader sout = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      String line = sout.readLine();
      Matcher m = line == null ? null : Pattern.compile("\"port\"\\s*:\\s*(\\d+)").matcher(line);
      if (m == null || !m.find()) {
        throw new IllegalStateException("the loopback LM server did not announce its port: " + line);
      }
      String base = "http://127.0.0.1:" + m.group(1);
      String apiBase = base + "/v1";

      // Direct side.
      ProcessBuilder dpb = new ProcessBuilder(env.python().toString(), env.peer("predict_direct.py").toString(),
          qa.toString(), apiBase, "--questions", Integer.toString(QUESTIONS), "--warmup", Integer.toString(QUESTIONS),
          "--threads", Integer.toString(THREADS));
      dpb.environment().put("PYTHONPATH", env.root().resolve("python").toString());
      dpb.redirectError(ProcessBuilder.Redirect.INHERIT);
      Process direct = dpb.start();
      JsonNode directResult;
      JsonNode directStats;
      try (BufferedReader r = new BufferedReader(new InputStreamReader(direct.getInputStream(), StandardCharsets.UTF_8));
          OutputStream w = direct.getOutputStream()) {
        String warm = r.readLine();
        if (warm == null) {
          throw new IllegalStateException("predict_direct.py ended before warming up");
        }
        post(base + "/reset");
        w.write('\n');
        w.flush();
        String last = r.readLine();
        if (last == null) {
          throw new IllegalStateException("predict_direct.py ended without a result");
        }
        directResult = json.readTree(last);
        directStats = get(base + "/stats");
      }
      direct.waitFor(30, TimeUnit.SECONDS);

      // DSPex side.
      if (System.getenv(KEY_ENV) == null) {
        throw new IllegalStateException(KEY_ENV + " must be set (bench/run sets it)");
      }
      DSPexPredict predict = DSPexPredict.of("question -> answer").withModel("openai/loopback")
          .withApiBase(apiBase).withApiKeyEnv(KEY_ENV).withNumRetries(0).withCache(false)
          .withWorkers(1).withThreads(THREADS).withMaxBatchSize(BATCH)
          .withPython(env.python().toString()).withPythonPath(env.root().resolve("python").toString());
      WorkerConfig config = predict.workerConfig();
      long t0 = System.nanoTime();
      WorkerPool held = WorkerPools.acquire(config);
      double setupSeconds = (System.nanoTime() - t0) / 1e9;
      PipelineRun.Result warm;
      HeldPoolRun timed;
      HeldPoolRun runnerDefault;
      JsonNode dspexStats;
      JsonNode runnerDefaultStats;
      try {
        // The whole set: the JVM's JIT is still compiling after a short warm-up (C2 threads took ~1.3 CPU s
        // of a timed run after 200 questions), Python has no JIT to warm.
        warm = PipelineRun.run(questions, predict, PipelineRun.Parallelism.ONE_THREAD);
        post(base + "/reset");
        timed = HeldPoolRun.measure(held, questions, predict, PipelineRun.Parallelism.ONE_THREAD);
        dspexStats = get(base + "/stats");
        post(base + "/reset");
        runnerDefault = HeldPoolRun.measure(held, questions, predict, PipelineRun.Parallelism.RUNNER_DEFAULT);
        runnerDefaultStats = get(base + "/stats");
      } finally {
        WorkerPools.release(held);
      }

      double directPerS = directResult.get("per_s").asDouble();
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("machine", BenchEnvironment.machine());
      out.put("questions", QUESTIONS);
      out.put("dspy_batch_per_s", EmbedBench.round(directPerS));
      out.put("dspex_per_s", EmbedBench.round(timed.perSecond()));
      out.put("ratio", EmbedBench.round(timed.perSecond() / directPerS));
      out.put("ideal_per_s", EmbedBench.round(THREADS * 1000.0 / LATENCY_MS));
      out.put("dspy_batch_seconds", EmbedBench.round(directResult.get("seconds").asDouble()));
      out.put("dspy_batch_answered", directResult.get("answered").asLong());
      out.put("dspy_batch_server_calls", directStats.get("chat_calls").asLong());
      out.put("dspy_batch_server_span_seconds", serverSpan(directStats));
      out.put("dspex_seconds", EmbedBench.round(timed.run().seconds()));
      out.put("dspex_outputs", timed.run().outputs());
      out.put("dspex_server_calls", dspexStats.get("chat_calls").asLong());
      out.put("dspex_server_span_seconds", serverSpan(dspexStats));
      out.put("dspex_pipeline_wall_seconds", EmbedBench.round(timed.run().wallSeconds()));
      out.put("dspex_warmup_seconds", EmbedBench.round(warm.seconds()));
      out.put("dspy_batch_warmup_seconds", EmbedBench.round(directResult.get("warmup_s").asDouble()));
      out.put("dspex_worker_start_and_setup_seconds", EmbedBench.round(setupSeconds));
      out.put("dspy_batch_cpu_seconds", EmbedBench.round(directResult.get("cpu_s").asDouble()));
      out.put("dspex_jvm_cpu_seconds", EmbedBench.round(timed.jvmCpuSeconds()));
      out.put("dspex_jvm_cpu_seconds_in_timed_span", EmbedBench.round(timed.run().jvmCpuSecondsInSpan()));
      out.put("dspex_worker_cpu_seconds", EmbedBench.round(timed.workerCpuSeconds()));
      out.put("held_pool_requests_in_timed_run", timed.requests());
      out.put("held_pool_worker_starts_in_timed_run", timed.workerStarts());
      runnerDefault.putAsRunnerDefault(out, directPerS);
      out.put("runner_default_dspex_server_calls", runnerDefaultStats.get("chat_calls").asLong());
      out.put("setup", String.format("loopback server --latency-ms %d; cache=False, num_retries=0 on both sides; "
          + "direct = dspy.Predict.batch(num_threads=%d) in 1 Python process, second run after a warm-up run of the same %d "
          + "questions; DSPex = DSPexPredict on the DirectRunner, 1 worker, withThreads(%d), maxBatchSize %d, "
          + "DirectRunner targetParallelism 1 (runner_default_*: the same pipeline again with the runner's default "
          + "thread count), first element into the transform to last output, after a warm-up pipeline of the same questions, pool held "
          + "(worker start and DSPy setup excluded)", LATENCY_MS, THREADS, QUESTIONS, THREADS, BATCH));
      EmbedBench.write("predict", out);
    } finally {
      server.getOutputStream().close();
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
  }

  /** Seconds from the first to the last call the server received: the LM's busy span. */
  private static double serverSpan(JsonNode stats) {
    return EmbedBench.round(stats.get("last_call_s").asDouble() - stats.get("first_call_s").asDouble());
  }

  private JsonNode get(String url) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    return json.readTree(r.body());
  }

  private void post(String url) throws Exception {
    http.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
