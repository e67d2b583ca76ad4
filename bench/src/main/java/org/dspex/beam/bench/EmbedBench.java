package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.transforms.DSPexEmbed;

/**
 * {@code bench/run embed}: the numpy all-MiniLM-L6-v2 on 2,000 corpus verses, encoded directly in
 * one Python process ({@code bench/py/embed_direct.py}) vs {@code DSPexEmbed} on the DirectRunner,
 * same thread budget: direct with {@value #THREADS} BLAS threads, DSPex with 1 worker of
 * {@value #THREADS} BLAS threads (threadsPerWorker); both encode requests of {@value #REQUEST} texts
 * (the transform's max batch size), {@value #MODEL_BATCH} at a time in the model, in {@value
 * #ROUNDS} rounds of {@link AlternatingRounds} (model load out of both timings; the JSON shows the
 * timed runs used the held pool: requests grew, no new worker start). Measures, never asserts.
 */
final class EmbedBench {
  static final int TEXTS = 2000;
  static final int THREADS = 2;
  static final int REQUEST = 64;
  static final int MODEL_BATCH = 32;
  /** Alternating rounds of one direct pass and one DSPex pipeline. */
  static final int ROUNDS = 2;

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
    DSPexEmbed embed = DSPexEmbed.of("all-MiniLM-L6-v2").withNormalize(true).withWorkers(1)
        .withMaxBatchSize(REQUEST).withModelBatchSize(MODEL_BATCH).withPython(env.python().toString())
        .withPythonPath(env.root().resolve("python").toString());
    AlternatingRounds.Result r = AlternatingRounds.run(env, "embed_direct.py", List.of(corpus.toString(),
        "--texts", Integer.toString(TEXTS), "--threads", Integer.toString(THREADS),
        "--request", Integer.toString(REQUEST), "--batch-size", Integer.toString(MODEL_BATCH)),
        embed, texts, ROUNDS, AlternatingRounds.PassCounter.NONE);
    HeldPoolRun timed = r.dspex();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("machine", BenchEnvironment.machine());
    out.put("texts", TEXTS);
    out.put("direct_per_s", round(r.directPerSecond()));
    out.put("dspex_per_s", round(timed.perSecond()));
    out.put("ratio", round(r.ratio()));
    out.put("rounds", ROUNDS);
    out.put("round_ratios", r.roundRatios());
    out.put("direct_seconds", round(r.directSeconds()));
    out.put("dspex_seconds", round(timed.run().seconds()));
    out.put("dspex_outputs", timed.run().outputs());
    out.put("dspex_pipeline_wall_seconds", round(timed.run().wallSeconds()));
    out.put("dspex_warmup_seconds", round(r.warm().seconds()));
    out.put("direct_warmup_seconds", round(r.directWarm().get("warmup_s").asDouble()));
    out.put("dspex_worker_start_and_model_load_seconds", round(r.setupSeconds()));
    out.put("direct_model_load_seconds", round(r.directWarm().get("load_s").asDouble()));
    out.put("direct_cpu_seconds", round(r.directCpuSeconds()));
    out.put("dspex_jvm_cpu_seconds", round(timed.jvmCpuSeconds()));
    out.put("dspex_jvm_cpu_seconds_in_timed_span", round(timed.run().jvmCpuSecondsInSpan()));
    out.put("dspex_worker_cpu_seconds", round(timed.workerCpuSeconds()));
    out.put("held_pool_requests_in_timed_run", timed.requests());
    out.put("held_pool_worker_starts_in_timed_run", timed.workerStarts());
    r.runnerDefault().putAsRunnerDefault(out, r.directPerSecond());
    out.put("setup", String.format("same %d texts, both sides %d BLAS threads: direct = 1 Python process "
        + "(OMP/MKL/OPENBLAS_NUM_THREADS=%d), encode(chunk of %d, batch_size=%d); DSPex = DSPexEmbed on the "
        + "DirectRunner, 1 worker, threadsPerWorker default max(1, cores/workers) (= %d BLAS threads here), "
        + "maxBatchSize %d, modelBatchSize %d, DirectRunner targetParallelism 1 (runner_default_*: the same "
        + "pipeline once more with the runner's default thread count). Both sides warm up once, then %d rounds "
        + "alternate one timed direct pass and one timed DSPex pipeline (rates and ratio over all rounds). "
        + "Timed: direct = one pass over the texts; DSPex = first element into the transform to last output, "
        + "worker pool held (started and model loaded before every pipeline), so model load is excluded on "
        + "both sides", TEXTS, THREADS, THREADS, REQUEST, MODEL_BATCH, embed.workerConfig().threadsPerWorker(), REQUEST,
        MODEL_BATCH, ROUNDS));
    write("embed", out);
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
