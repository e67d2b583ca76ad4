package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job's shared LM cache and {@code --resume}, counted at the loopback LM server: a {@code
 * ./dspex predict} killed with {@code kill -9} mid-job leaves its cache next to the output; the
 * same command with {@code --resume} then writes every record exactly once and asks the LM only
 * for what the killed run had not been answered yet (the requests in flight at the kill at most).
 */
class ResumeIT {
  private static final int QUESTIONS = 600;
  private static final int WORKERS = 2;
  private static final int THREADS = 4;

  @TempDir Path dir;

  /** {@code QUESTIONS} distinct questions, one in ten asked twice under another id. */
  private Path questions() throws Exception {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < QUESTIONS; i++) {
      int q = i % 10 == 9 ? i - 1 : i;
      b.append("{\"id\": \"q").append(i).append("\", \"question\": \"What is question number ").append(q)
          .append("?\"}\n");
    }
    return Files.writeString(dir.resolve("questions.jsonl"), b.toString());
  }

  private List<String> predict(LoopbackLm lm, String... more) throws Exception {
    List<String> args = new ArrayList<>(PredictCommandIT.predict(lm, "--input", questions().toString(),
        "--output", dir.resolve("answers.jsonl").toString(), "--workers", Integer.toString(WORKERS),
        "--threads", Integer.toString(THREADS), "--batch-size", "8"));
    args.addAll(List.of(more));
    return args;
  }

  @Test
  void givenAKilledJob_thenResumeWritesEveryRecordOnceAndPaysOnlyForWhatWasNotAnswered() throws Exception {
    Path cache = dir.resolve("answers.jsonl.lm-cache");
    try (LoopbackLm lm = LoopbackLm.start("--latency-ms", "40")) {
      Process job = Dspex.start(dir, dir.resolve("first.log"), PredictCommandIT.KEY,
          predict(lm).toArray(String[]::new));
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      while (lm.chatCalls() < QUESTIONS / 3 && job.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      String firstLog = job.isAlive() ? "" : read("first.log");
      assertTrue(job.isAlive(), () -> "the job ended before the kill: " + firstLog);
      job.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      double killedAt = ((Number) lm.stats().get("uptime_s")).doubleValue();
      long paidBeforeKill = lm.chatCalls();
      assertTrue(Files.isDirectory(cache), "the killed job's LM cache is kept next to the output");
      assertFalse(Files.exists(dir.resolve("answers.jsonl")), "a killed job leaves no output");

      Dspex.Run r = Dspex.run(dir, PredictCommandIT.KEY, predict(lm, "--resume").toArray(String[]::new))
          .expectExit(0).expectNoStackTrace();
      assertTrue(r.stderr().contains("resuming"), r::toString);

      List<Map<String, Object>> out = Records.readJsonl(dir.resolve("answers.jsonl"));
      TreeSet<Object> ids = new TreeSet<>();
      Map<Object, Object> answerOf = new HashMap<>();
      for (Map<String, Object> row : out) {
        assertTrue(ids.add(row.get("id")), () -> "written twice: " + row);
        answerOf.put(row.get("id"), row.get("answer"));
      }
      assertEquals(QUESTIONS, ids.size());
      for (int i = 9; i < QUESTIONS; i += 10) {
        assertEquals(answerOf.get("q" + (i - 1)), answerOf.get("q" + i), "a repeated question, its answer");
      }
      assertEquals(0, Files.size(dir.resolve("answers.jsonl.failures.jsonl")));
      assertFalse(Files.exists(cache), "a job that ran to its end removes its LM cache");

      Map<String, Object> stats = lm.stats();
      int distinct = QUESTIONS - QUESTIONS / 10;
      assertEquals(distinct, ((Number) stats.get("distinct_chat_requests")).intValue());
      // Asked again only if in flight when the JVM died: at most every worker's threads; one
      // answered more than a second before the kill was in the cache.
      List<Map<String, Object>> repeats = lm.repeats();
      List<Map<String, Object>> paidTwice = repeats.stream().filter(x -> x.get("first_answer_s") != null
          && ((Number) x.get("first_answer_s")).doubleValue() < killedAt - 1.0).toList();
      assertEquals(List.of(), paidTwice, () -> "answered before the kill and asked again: " + repeats);
      assertTrue(repeats.size() <= WORKERS * THREADS, () -> "more repeats than calls in flight: " + repeats);
      long calls = lm.chatCalls();
      System.out.printf("ResumeIT: %d LM calls before the kill, %d in all for %d distinct questions, %d asked"
          + " twice%n", paidBeforeKill, calls, distinct, repeats.size());
      assertTrue(calls <= distinct + WORKERS * THREADS,
          () -> "calls " + calls + " (" + paidBeforeKill + " before the kill) for " + distinct + " questions");
    }
  }

  @Test
  void givenALeftCacheWithoutResume_thenTheRunStartsOverAndSaysSo() throws Exception {
    Path cache = Files.createDirectories(dir.resolve("answers.jsonl.lm-cache"));
    Files.writeString(cache.resolve("stale"), "from a run that did not finish");
    try (LoopbackLm lm = LoopbackLm.start()) {
      Dspex.Run r = Dspex.run(dir, PredictCommandIT.KEY, predict(lm).toArray(String[]::new))
          .expectExit(0).expectNoStackTrace();
      assertTrue(r.stderr().contains("starting over without its LM cache (--resume reuses it)"), r::toString);
      assertEquals(QUESTIONS, Records.readJsonl(dir.resolve("answers.jsonl")).size());
      assertFalse(Files.exists(cache));
      // Identical questions are asked once: the 60 repeats copy their first's answer.
      assertEquals(QUESTIONS - QUESTIONS / 10, lm.chatCalls());
    }
  }

  private String read(String log) throws Exception {
    return Files.readString(dir.resolve(log));
  }
}
