package org.dspex.beam.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bench/run cluster}: the same {@code ./dspex embed} job ({@value #ELEMENTS} texts, the test
 * embedder) on the DirectRunner and on the local two-TaskManager Flink session cluster, and what
 * losing a TaskManager costs: the cluster job again with one TaskManager killed ({@code kill -9})
 * once {@value #KILL_AT_SHARE} of the records are through the model, and a replacement started.
 * Flink restarts the failed region from its start, so the cost is about the work done before the
 * kill plus the restart. Writes {@code bench/results/cluster.json}. Measures, never asserts.
 */
final class ClusterBench {
  static final long ELEMENTS = 100_000;
  static final double KILL_AT_SHARE = 0.5;

  private final BenchEnvironment env;

  ClusterBench(BenchEnvironment env) {
    this.env = env;
  }

  void run() throws Exception {
    Path work = env.work("cluster");
    Path model = ScaleBench.tinyModel(env, work);
    Path input = ScaleBench.records(env, work, "texts.jsonl", "--records", Long.toString(ELEMENTS));
    EmbedJob job = new EmbedJob(env, work, model);
    List<Map<String, Object>> runs = new ArrayList<>();
    Map<String, Object> direct = job.direct("direct", input, ELEMENTS, "-Xmx1g", List.of());
    Map<String, Object> direct2 = job.direct("direct-2", input, ELEMENTS, "-Xmx1g",
        List.of("--parallelism", "2", "--workers", "2"));
    runs.add(direct);
    runs.add(direct2);
    Map<String, Object> cluster;
    Map<String, Object> killed;
    try (FlinkSession flink = FlinkSession.start(env, work.resolve("flink"))) {
      cluster = job.cluster("cluster", flink, input, ELEMENTS, null);
      killed = job.cluster("cluster-kill", flink, input, ELEMENTS,
          new EmbedJob.Kill("taskmanager-1", "taskmanager-3", KILL_AT_SHARE));
    }
    runs.add(cluster);
    runs.add(killed);
    Files.deleteIfExists(input);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("machine", BenchEnvironment.machine());
    out.put("elements", ELEMENTS);
    out.put("direct_per_s", direct.get("elements_per_s"));
    out.put("direct_parallel_per_s", direct2.get("elements_per_s"));
    out.put("cluster_per_s", cluster.get("elements_per_s"));
    out.put("kill_extra_seconds", EmbedJob.round((Double) killed.get("seconds") - (Double) cluster.get("seconds")));
    out.put("killed_at_s", killed.get("killed_at_s"));
    out.put("runs", runs);
    out.put("setup", "./dspex embed with the test embedder (dspex_testing.tiny_model) over " + ELEMENTS
        + " texts of bench/py/gen_records.py into Parquet: direct = DirectRunner with the defaults (1 runner thread, "
        + "1 worker), direct_parallel = --parallelism 2 --workers 2, cluster = cluster/flink-cluster (1 JobManager, "
        + "2 TaskManagers of 2 GiB with 1 slot each, all on this machine) with --parallelism 2; kill: the cluster job "
        + "again, taskmanager-1 killed with kill -9 once " + KILL_AT_SHARE + " of the records were through the model "
        + "(Flink's live count), a replacement started at once; kill_extra_seconds = its time minus the undisturbed "
        + "cluster run's");
    EmbedBench.write("cluster", out);
  }
}
