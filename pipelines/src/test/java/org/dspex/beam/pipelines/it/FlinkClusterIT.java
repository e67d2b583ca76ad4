package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command on a real Flink session cluster (one JobManager, two TaskManagers, each its own JVM):
 * a TaskManager is killed with {@code kill -9} mid-job and a replacement started; the job finishes,
 * every input is in exactly one of the output and the failures file, and (predict) the LM server is
 * never asked twice for a record it had answered before the kill: the workers of the machine share
 * DSPy's on-disk LM cache ({@code --cache-dir}). File jobs run in batch mode, where Flink restarts
 * the failed region from its start.
 */
class FlinkClusterIT {
  @TempDir static Path dir;
  private static FlinkCluster cluster;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = FlinkCluster.start(dir.resolve("cluster"));
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void givenATaskManagerKilledMidEmbed_thenTheJobFinishesWithEveryTextOnce() throws Exception {
    int n = 20_000;
    Path input = dir.resolve("texts.jsonl");
    try (BufferedWriter w = Files.newBufferedWriter(input, StandardCharsets.UTF_8)) {
      for (int i = 0; i < n; i++) {
        w.write("{\"id\":\"t" + i + "\",\"text\":\"text number " + i + " of the cluster test\"}\n");
      }
    }
    Path model = TinyModel.create(dir.resolve("tiny-model"));
    Path output = dir.resolve("vectors.jsonl");
    String victim = "taskmanager-1";
    CompletableFuture<Dspex.Run> job = runAsync("embed", "--model", model.toString(), "--input", input.toString(),
        "--output", output.toString(), "--runner", "FlinkRunner", "--flink-master", cluster.master(),
        "--parallelism", "2");
    killWhen(victim, "taskmanager-3", () -> hasPythonWorker(victim), job);
    job.get().expectExit(0).expectNoStackTrace();
    List<Map<String, Object>> out = Records.readJsonl(output);
    List<Map<String, Object>> failed = Records.readJsonl(Path.of(output + ".failures.jsonl"));
    assertEveryIdOnce(n, "t", out, failed);
    assertEquals(0, failed.size(), () -> "failures: " + failed.subList(0, Math.min(3, failed.size())));
    assertEquals(384, ((List<?>) out.get(0).get("embedding")).size());
    assertRecoveredFromTheKill();
  }

  @Test
  void givenATaskManagerKilledMidPredict_thenNoAnsweredRecordIsPaidTwice() throws Exception {
    int n = 5_000;
    Path input = dir.resolve("questions.jsonl");
    try (BufferedWriter w = Files.newBufferedWriter(input, StandardCharsets.UTF_8)) {
      for (int i = 0; i < n; i++) {
        w.write("{\"id\":\"q" + i + "\",\"question\":\"What is question number " + i + " about?\"}\n");
      }
    }
    Path output = dir.resolve("answers.jsonl");
    Path cache = Files.createDirectories(dir.resolve("lm-cache"));
    try (LoopbackLm lm = LoopbackLm.start("--latency-ms", "5")) {
      CompletableFuture<Dspex.Run> job = runAsync("predict", "--signature",
          "question -> answer", "--lm", "openai/loopback", "--api-base", lm.apiBase(),
          "--api-key-env", FlinkCluster.API_KEY_ENV,
          "--cache-dir", cache.toString(), "--input", input.toString(), "--output", output.toString(),
          "--runner", "FlinkRunner", "--flink-master", cluster.master(), "--parallelism", "2", "--threads", "4");
      double[] killedAt = new double[1];
      killWhen("taskmanager-2", "taskmanager-4", () -> {
        Map<String, Object> s = stats(lm);
        killedAt[0] = ((Number) s.getOrDefault("uptime_s", 0)).doubleValue();
        return ((Number) s.getOrDefault("chat_calls", 0)).longValue() >= n / 4;
      }, job);
      job.get().expectExit(0).expectNoStackTrace();
      List<Map<String, Object>> out = Records.readJsonl(output);
      List<Map<String, Object>> failed = Records.readJsonl(Path.of(output + ".failures.jsonl"));
      assertEveryIdOnce(n, "q", out, failed);
      Map<String, Object> stats = lm.stats();
      assertEquals(n, ((Number) stats.get("distinct_chat_requests")).intValue(), stats::toString);
      // A request in flight when its worker's TaskManager died (at most the killed workers' threads)
      // may be asked again; one answered before the kill was in the shared cache. The second of
      // margin covers an answer on its way back to the worker as the kill came.
      List<Map<String, Object>> repeats = lm.repeats();
      List<Map<String, Object>> paidTwice = repeats.stream().filter(r -> r.get("first_answer_s") != null
          && ((Number) r.get("first_answer_s")).doubleValue() < killedAt[0] - 1.0).toList();
      assertEquals(List.of(), paidTwice, () -> "answered before the kill (at " + killedAt[0] + " s) and asked again;"
          + " all repeats: " + repeats);
      assertTrue(repeats.size() <= 8, () -> "more repeats than requests in flight on the killed workers: " + repeats);
    }
    assertRecoveredFromTheKill();
  }

  private static CompletableFuture<Dspex.Run> runAsync(String... args) {
    return runAsync(Map.of(), args);
  }

  private static CompletableFuture<Dspex.Run> runAsync(Map<String, String> env, String... args) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return Dspex.run(dir, env, args);
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /** Kills {@code victim} once {@code ready} holds (the job is under way there), then starts {@code replacement}. */
  private static void killWhen(String victim, String replacement, BooleanSupplier ready,
      CompletableFuture<Dspex.Run> job) throws Exception {
    long deadline = System.nanoTime() + 240_000_000_000L;
    while (!ready.getAsBoolean()) {
      assertFalse(job.isDone(), () -> "the job ended before the kill: " + job.join());
      assertTrue(System.nanoTime() < deadline, "the job never got under way on " + victim);
      Thread.sleep(100);
    }
    assertFalse(job.isDone(), "the job ended before the kill");
    cluster.killTaskManager(victim);
    cluster.startTaskManager(replacement);
  }

  /** Whether a Python worker runs under the TaskManager: the job's DoFns are processing there. */
  private static boolean hasPythonWorker(String taskManager) {
    try {
      return ProcessHandle.of(cluster.pid(taskManager)).map(p -> p.descendants().anyMatch(
          c -> c.info().command().orElse("").contains("python"))).orElse(false);
    } catch (IOException e) {
      return false;
    }
  }

  private static Map<String, Object> stats(LoopbackLm lm) {
    try {
      return lm.stats();
    } catch (IOException | InterruptedException e) {
      return Map.of();
    }
  }

  private static void assertEveryIdOnce(int n, String prefix, List<Map<String, Object>> out,
      List<Map<String, Object>> failed) {
    List<String> ids = new ArrayList<>();
    out.forEach(r -> ids.add((String) r.get("id")));
    failed.forEach(r -> ids.add((String) ((Map<?, ?>) r.get("input")).get("id")));
    TreeSet<String> distinct = new TreeSet<>(ids);
    assertEquals(n, ids.size(), "records in output + failures");
    assertEquals(n, distinct.size(), "distinct ids in output + failures");
    for (int i = 0; i < n; i++) {
      assertTrue(distinct.contains(prefix + i), prefix + i + " is missing");
    }
  }

  /** The last job lost a TaskManager and recovered: Flink's exception history has the loss. */
  private static void assertRecoveredFromTheKill() throws Exception {
    List<String> jobs = cluster.jobIds();
    List<Map<String, Object>> history = cluster.exceptionHistory(jobs.get(jobs.size() - 1));
    assertFalse(history.isEmpty(), "the job recovered from no failure: the kill did not hit it");
  }
}
