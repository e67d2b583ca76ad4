package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench/run scale}: the framework at scale, through the command users run ({@code ./dspex
 * embed}, DSPexEmbed on the test embedder of {@code dspex_testing.tiny_model}, so that the
 * framework and not a model is measured), the heap of its JVMs and the resident memory of every
 * worker sampled once a second:
 *
 * <ul>
 *   <li>{@code runs}: {@value #ELEMENTS} short texts on the DirectRunner and on the local Flink
 *       session cluster (two TaskManagers), the numbers {@code bench/results/scale.json} holds per
 *       run;
 *   <li>{@code reading}: {@value #LARGE} records on the DirectRunner in a 512 MiB heap, and a 10
 *       GiB JSONL file on Flink local mode, timed to its first records through the model.
 * </ul>
 *
 * The runs and the real model's rate they are compared with ({@code bench/results/embed.json}'s
 * DSPexEmbed, all-MiniLM-L6-v2 on this machine) are in the result. {@code DSPEX_BENCH_SCALE}
 * (comma-separated: {@code direct}, {@code flink}, {@code heap512}, {@code 10gib}) runs a part
 * only. Measures, never asserts.
 */
final class ScaleBench {
  static final long ELEMENTS = 1_000_000;
  static final long LARGE = 2_000_000;
  static final String LARGE_HEAP = "-Xmx512m";
  static final String HUGE_BYTES = "10G";
  /** DSPexEmbed with the real model (all-MiniLM-L6-v2, float32) when bench/results/embed.json holds none. */
  static final double REAL_MODEL_PER_S = 173.2;
  static final Set<String> PARTS = Set.of("direct", "flink", "heap512", "10gib");
  /** How long the 10 GiB run goes on after its first records, to measure its rate. */
  static final long HUGE_RATE_SECONDS = 30;

  private final BenchEnvironment env;

  ScaleBench(BenchEnvironment env) {
    this.env = env;
  }

  void run() throws Exception {
    Set<String> parts = parts(System.getenv("DSPEX_BENCH_SCALE"));
    Path work = env.work("scale");
    Path model = tinyModel(env, work);
    EmbedJob job = new EmbedJob(env, work, model);
    List<Map<String, Object>> runs = new ArrayList<>();
    List<Map<String, Object>> reading = new ArrayList<>();
    if (parts.contains("direct") || parts.contains("flink")) {
      Path input = records(env, work, "texts-1m.jsonl", "--records", Long.toString(ELEMENTS));
      if (parts.contains("direct")) {
        runs.add(job.direct("direct-1m", input, ELEMENTS, "-Xmx1g", List.of()));
      }
      if (parts.contains("flink")) {
        try (FlinkSession flink = FlinkSession.start(env, work.resolve("flink"))) {
          runs.add(job.cluster("flink-1m", flink, input, ELEMENTS, null));
        }
      }
      Files.deleteIfExists(input);
    }
    if (parts.contains("heap512")) {
      Path input = records(env, work, "texts-2m.jsonl", "--records", Long.toString(LARGE));
      Map<String, Object> r = job.direct("direct-2m-512m", input, LARGE, LARGE_HEAP, List.of());
      r.put("what", LARGE + " records through ./dspex embed on the DirectRunner in a 512 MiB heap");
      reading.add(r);
      Files.deleteIfExists(input);
    }
    if (parts.contains("10gib")) {
      reading.add(hugeFile(work, model));
    }
    double real = realModelRate();
    for (Map<String, Object> r : runs) {
      r.put("vs_real_model", Math.round(((Double) r.get("elements_per_s")) / real * 10) / 10.0);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("machine", BenchEnvironment.machine());
    out.put("runs", runs);
    out.put("reading", reading);
    out.put("real_model_elements_per_s", real);
    out.put("targets", "worker_rss_mib_end within 10% of worker_rss_mib_start on both runners; the heap after "
        + "collections flat on Flink; elements_per_s at least 10x real_model_elements_per_s");
    out.put("setup", "./dspex embed --model <dspex_testing.tiny_model: all-MiniLM-L6-v2 cut to its embedding layer, "
        + "384 floats a text> --input <bench/py/gen_records.py JSONL, 40-220 characters a text> --output <Parquet>, "
        + "defaults otherwise (1 worker per JVM, batches of 64); DirectRunner with -Xmx1g; FlinkRunner on "
        + "cluster/flink-cluster (2 TaskManagers of 2 GiB, 1 slot each), --parallelism 2. Sampled once a second over "
        + "JMX (attach API): heap in use, and in use right after the latest collection (summed over the TaskManagers "
        + "on Flink); the VmRSS of every dspex_worker process under those JVMs, summed; _start when 10% of the "
        + "elements were done (the command's progress lines on the DirectRunner, Flink's live record count of "
        + EmbedJob.MODEL_OUTPUT_VERTEX + " on the cluster), _end at the last sample with all workers running");
    EmbedBench.write("scale", out);
  }

  /** DSPexEmbed's rate with the real model, from bench/run embed's latest result. */
  private double realModelRate() {
    try {
      return new ObjectMapper().readTree(env.results().resolve("embed.json").toFile()).path("dspex_per_s")
          .asDouble(REAL_MODEL_PER_S);
    } catch (IOException e) {
      return REAL_MODEL_PER_S;
    }
  }

  static Set<String> parts(String spec) {
    if (spec == null || spec.isBlank()) {
      return PARTS;
    }
    Set<String> parts = new TreeSet<>(Arrays.asList(spec.trim().split("\\s*,\\s*")));
    if (!PARTS.containsAll(parts)) {
      throw new IllegalArgumentException("DSPEX_BENCH_SCALE: parts are " + PARTS + ", not " + spec);
    }
    return parts;
  }

  /** The 10 GiB file on Flink local (the command's JVM): seconds to the first records, then the rate. */
  private Map<String, Object> hugeFile(Path work, Path model) throws Exception {
    Path input = records(env, work, "texts-10g.jsonl", "--bytes", HUGE_BYTES);
    Path output = work.resolve("flink-local-10g.parquet");
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("what", "a " + HUGE_BYTES + "iB JSONL file through ./dspex embed --runner FlinkRunner (local mode, "
        + "--parallelism 2): seconds from the start to the first records through the model (the command's progress "
        + "lines, every 5 s), then its rate over " + HUGE_RATE_SECONDS + " s; stopped with SIGTERM after that");
    r.put("runner", "FlinkRunner (local)");
    r.put("input_bytes", Files.size(input));
    CommandRun run = CommandRun.start(env, work, "flink-local-10g", "", List.of("embed", "--model", model.toString(),
        "--input", input.toString(), "--output", output.toString(), "--runner", "FlinkRunner", "--parallelism", "2"));
    try (ResourceSampler sampler = new ResourceSampler(() -> List.of(run.pid()), run::progress)) {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(15);
      while (run.isAlive() && run.progress() <= 0 && System.nanoTime() < deadline) {
        Thread.sleep(250);
      }
      if (!run.isAlive() || run.progress() <= 0) {
        run.close();
        throw new IllegalStateException("the 10 GiB run produced no records:\n" + run.stderrTail());
      }
      double first = run.seconds();
      long firstDone = run.progress();
      r.put("first_records_s", EmbedJob.round(first));
      Thread.sleep(TimeUnit.SECONDS.toMillis(HUGE_RATE_SECONDS));
      long done = run.progress();
      double seconds = run.seconds();
      r.put("records_done_at_stop", done);
      r.put("elements_per_s_after_first", EmbedJob.round((done - firstDone) / (seconds - first)));
      run.terminate();
      r.putAll(sampler.summary(done));
    } finally {
      run.close();
      Files.deleteIfExists(output);
      Files.deleteIfExists(input);
    }
    return r;
  }

  /** The test embedder's model folder, written into {@code work}. */
  static Path tinyModel(BenchEnvironment env, Path work) throws IOException, InterruptedException {
    Path dir = work.resolve("tiny-model");
    python(env, work, List.of("-m", "dspex_testing.tiny_model", dir.toString()));
    return dir;
  }

  /** A generated input ({@code bench/py/gen_records.py}, deterministic). */
  static Path records(BenchEnvironment env, Path work, String name, String... how)
      throws IOException, InterruptedException {
    Path out = work.resolve(name);
    List<String> args = new ArrayList<>(List.of(env.peer("gen_records.py").toString(), "--out", out.toString()));
    args.addAll(Arrays.asList(how));
    python(env, work, args);
    return out;
  }

  private static void python(BenchEnvironment env, Path work, List<String> args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(env.python().toString()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).inheritIO();
    pb.environment().put("PYTHONPATH", env.root().resolve("python/testing").toString());
    pb.environment().put("HF_HUB_OFFLINE", "1");
    int exit = pb.start().waitFor();
    if (exit != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + exit);
    }
  }
}
