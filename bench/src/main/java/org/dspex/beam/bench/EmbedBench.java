package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.connector.worker.WorkerPools;
import org.dspex.beam.transforms.DSPexEmbed;

/**
 * {@code bench/run embed}: the numpy all-MiniLM-L6-v2 on 2,000 corpus verses, encoded directly in
 * one Python process ({@code bench/py/embed_direct.py}) vs {@code DSPexEmbed} on the DirectRunner,
 * same thread budget: direct with {@value #THREADS} BLAS threads, DSPex with 1 worker of
 * {@value #THREADS} BLAS threads (threadsPerWorker); both encode requests of {@value #REQUEST} texts
 * (the transform's max batch size), {@value #MODEL_BATCH} at a time in the model. Model load is out
 * of both timings: the direct side loads then warms up once; the DSPex side holds the pool the
 * transform's DoFns acquire ({@link WorkerPools#acquire} on the same config) across a warm-up
 * pipeline and the timed one, and checks the timed run used it (requests grew, no new worker
 * start). Measures, never asserts.
 */
final class EmbedBench {
  static final int TEXTS = 2000;
  static final int THREADS = 2;
  static final int REQUEST = 64;
  static final int MODEL_BATCH = 32;

  private final BenchEnvironment env;

  EmbedBench(BenchEnvironment env) {
    this.env = env;
  }

  void run() throws Exception {
    Path corpus = env.root().resolve("testdata/corpus/kjv_pentateuch.jsonl");
    ObjectMapper json = new ObjectMapper();
    List<String> texts = new ArrayList<>();
    for (String line : Files.readAllLines(corpus)) {
      if (!line.isBlank() && texts.size() < TEXTS) {
        texts.add(json.readTree(line).get("text").asText());
      }
    }
    JsonNode direct = direct(corpus);

    DSPexEmbed embed = DSPexEmbed.of("all-MiniLM-L6-v2").withNormalize(true).withWorkers(1)
        .withMaxBatchSize(REQUEST).withModelBatchSize(MODEL_BATCH).withPython(env.python().toString())
        .withPythonPath(env.root().resolve("python").toString());
    WorkerConfig config = embed.workerConfig();
    long t0 = System.nanoTime();
    WorkerPool held = WorkerPools.acquire(config);
    double setupSeconds = (System.nanoTime() - t0) / 1e9;
    PipelineRun.Result warm;
    HeldPoolRun timed;
    HeldPoolRun runnerDefault;
    try {
      warm = PipelineRun.run(texts, embed, PipelineRun.Parallelism.ONE_THREAD);
      timed = HeldPoolRun.measure(held, texts, embed, PipelineRun.Parallelism.ONE_THREAD);
      runnerDefault = HeldPoolRun.measure(held, texts, embed, PipelineRun.Parallelism.RUNNER_DEFAULT);
    } finally {
      WorkerPools.release(held);
    }
    double directPerS = direct.get("per_s").asDouble();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("machine", BenchEnvironment.machine());
    out.put("texts", TEXTS);
    out.put("direct_per_s", round(directPerS));
    out.put("dspex_per_s", round(timed.perSecond()));
    out.put("ratio", round(timed.perSecond() / directPerS));
    out.put("direct_seconds", round(direct.get("seconds").asDouble()));
    out.put("dspex_seconds", round(timed.run().seconds()));
    out.put("dspex_outputs", timed.run().outputs());
    out.put("dspex_pipeline_wall_seconds", round(timed.run().wallSeconds()));
    out.put("dspex_warmup_seconds", round(warm.seconds()));
    out.put("direct_warmup_seconds", round(direct.get("warmup_s").asDouble()));
    out.put("dspex_worker_start_and_model_load_seconds", round(setupSeconds));
    out.put("direct_model_load_seconds", round(direct.get("load_s").asDouble()));
    out.put("direct_cpu_seconds", round(direct.get("cpu_s").asDouble()));
    out.put("dspex_jvm_cpu_seconds", round(timed.jvmCpuSeconds()));
    out.put("dspex_jvm_cpu_seconds_in_timed_span", round(timed.run().jvmCpuSecondsInSpan()));
    out.put("dspex_worker_cpu_seconds", round(timed.workerCpuSeconds()));
    out.put("held_pool_requests_in_timed_run", timed.requests());
    out.put("held_pool_worker_starts_in_timed_run", timed.workerStarts());
    runnerDefault.putAsRunnerDefault(out, directPerS);
    out.put("setup", String.format("same %d texts, both sides %d BLAS threads: direct = 1 Python process "
        + "(OMP/MKL/OPENBLAS_NUM_THREADS=%d), encode(chunk of %d, batch_size=%d); DSPex = DSPexEmbed on the "
        + "DirectRunner, 1 worker, threadsPerWorker default max(1, cores/workers) (= %d BLAS threads here), "
        + "maxBatchSize %d, modelBatchSize %d, DirectRunner targetParallelism 1 (runner_default_*: the same "
        + "pipeline again with the runner's default thread count). Timed: direct = second pass after a warm-up pass; DSPex = first "
        + "element into the transform to last output, second pipeline, worker pool held (started and model "
        + "loaded before both pipelines) so model load is excluded on both sides",
        TEXTS, THREADS, THREADS, REQUEST, MODEL_BATCH, config.threadsPerWorker(), REQUEST, MODEL_BATCH));
    write("embed", out);
  }

  private JsonNode direct(Path corpus) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(env.python().toString(), env.peer("embed_direct.py").toString(),
        corpus.toString(), "--texts", Integer.toString(TEXTS), "--threads", Integer.toString(THREADS),
        "--request", Integer.toString(REQUEST), "--batch-size", Integer.toString(MODEL_BATCH));
    pb.environment().put("PYTHONPATH", env.root().resolve("python").toString());
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    String last = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        last = line;
      }
    }
    if (p.waitFor() != 0 || last == null) {
      throw new IllegalStateException("embed_direct.py failed: " + last);
    }
    return new ObjectMapper().readTree(last);
  }

  static void write(String name, Map<String, Object> out) throws Exception {
    BenchEnvironment env = BenchEnvironment.fromSystemProperties();
    Files.createDirectories(env.results());
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(env.results().resolve(name + ".json").toFile(), out);
    System.out.printf("%-42s %s%n", "metric", "value");
    out.forEach((k, v) -> System.out.printf("%-42s %s%n", k, v));
  }

  static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
