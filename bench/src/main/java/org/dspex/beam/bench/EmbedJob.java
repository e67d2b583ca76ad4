package org.dspex.beam.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One {@code ./dspex embed} job of the scale benchmarks, sampled once a second ({@link
 * ResourceSampler}): on the DirectRunner in the command's JVM, or submitted to a {@link
 * FlinkSession}, optionally with one TaskManager killed mid-job and replaced. The output is a
 * Parquet file, removed after the run (a million 384-float vectors are 1.5 GB); the command's
 * summary line must say every record was written.
 */
final class EmbedJob {
  /** The vertex of the model step's output on Flink: its live record count is the progress. */
  static final String MODEL_OUTPUT_VERTEX = "Embed/Infer.output";
  private static final Pattern WRITTEN = Pattern.compile("records\\s+([0-9,]+): ([0-9,]+) written");
  private static final long TIMEOUT_SECONDS = 3 * 3600;

  private final BenchEnvironment env;
  private final Path work;
  private final Path model;

  EmbedJob(BenchEnvironment env, Path work, Path model) {
    this.env = env;
    this.work = work;
    this.model = model;
  }

  /** Where a TaskManager is killed: once this share of the records is done; then a replacement starts. */
  record Kill(String victim, String replacement, double atShare) {}

  /** On the DirectRunner, the command's JVM with {@code javaOpts}, {@code options} added to the command's. */
  Map<String, Object> direct(String name, Path input, long elements, String javaOpts, List<String> options)
      throws Exception {
    Path output = work.resolve(name + ".parquet");
    List<String> args = new ArrayList<>(args(input, output));
    args.addAll(options);
    CommandRun run = CommandRun.start(env, work, name, javaOpts, args);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("runner", "DirectRunner");
    r.put("elements", elements);
    r.put("java_opts", javaOpts);
    r.put("options", String.join(" ", options));
    try (ResourceSampler sampler = new ResourceSampler(() -> List.of(run.pid()), run::progress)) {
      finish(run, r, output, elements, sampler);
    }
    return r;
  }

  /** On the Flink session cluster, parallelism 2; {@code kill} null for an undisturbed run. */
  Map<String, Object> cluster(String name, FlinkSession flink, Path input, long elements, @Nullable Kill kill)
      throws Exception {
    Path output = work.resolve(name + ".parquet");
    List<String> args = new ArrayList<>(args(input, output));
    args.addAll(List.of("--runner", "FlinkRunner", "--flink-master", flink.master(), "--parallelism", "2"));
    CommandRun run = CommandRun.start(env, work, name, "", args);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("runner", "FlinkRunner");
    r.put("elements", elements);
    r.put("cluster", "1 JobManager, 2 TaskManagers (cluster/flink-cluster), parallelism 2");
    try (ResourceSampler sampler = new ResourceSampler(flink::taskManagerPids,
        () -> flink.recordsInto(MODEL_OUTPUT_VERTEX))) {
      if (kill != null) {
        while (run.isAlive() && flink.recordsInto(MODEL_OUTPUT_VERTEX) < kill.atShare() * elements) {
          Thread.sleep(200);
        }
        r.put("killed_at_s", round(run.seconds()));
        r.put("killed", kill.victim());
        flink.killTaskManager(kill.victim());
        flink.startTaskManager(kill.replacement());
      }
      finish(run, r, output, elements, sampler);
    }
    if (kill != null) {
      r.put("recovered_failures", flink.recoveredFailuresOfLatestJob());
    }
    return r;
  }

  private List<String> args(Path input, Path output) {
    return List.of("embed", "--model", model.toString(), "--input", input.toString(), "--output", output.toString());
  }

  private static void finish(CommandRun run, Map<String, Object> r, Path output, long elements,
      ResourceSampler sampler) throws Exception {
    int exit = run.waitFor(TIMEOUT_SECONDS);
    double seconds = run.seconds();
    sampler.close();
    Files.deleteIfExists(output);
    Files.deleteIfExists(Path.of(output + ".failures.jsonl"));
    if (exit != 0) {
      throw new IllegalStateException(r.get("runner") + " run exited " + exit + ":\n" + run.stderrTail());
    }
    long written = written(run);
    if (written != elements) {
      throw new IllegalStateException(r.get("runner") + " run wrote " + written + " of " + elements + " records");
    }
    r.put("seconds", round(seconds));
    r.put("elements_per_s", round(elements / seconds));
    r.putAll(sampler.summary(elements));
  }

  /** The records the command's summary says it wrote. */
  static long written(CommandRun run) throws IOException {
    Matcher m = WRITTEN.matcher(run.outputText());
    long written = -1;
    while (m.find()) {
      written = Long.parseLong(m.group(2).replace(",", ""));
    }
    return written;
  }

  static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
