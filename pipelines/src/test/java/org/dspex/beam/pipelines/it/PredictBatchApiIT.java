package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./dspex predict --batch-api} end to end against the loopback server's Batch API: the QA
 * set answered through batches with no live call, a failed and an expired request in the failures,
 * the batches recorded in {@code <output>.batches.json}; and a job killed while its batch runs,
 * whose re-run picks the batch up instead of submitting it again.
 */
class PredictBatchApiIT {
  @TempDir Path dir;

  /** The QA set plus a record whose request fails (HTTP 500) and one whose batch expires first. */
  private Path inputWithTwoBadRecords() throws Exception {
    List<String> lines = new ArrayList<>(Files.readAllLines(Records.qa(), StandardCharsets.UTF_8));
    lines.removeIf(String::isBlank);
    lines.add("{\"id\": \"bad-500\", \"question\": \"which one fails? __DSPEX_500__\"}");
    lines.add("{\"id\": \"bad-expired\", \"question\": \"which one expires? __DSPEX_BATCH_EXPIRE__\"}");
    Path input = dir.resolve("questions.jsonl");
    Files.write(input, lines, StandardCharsets.UTF_8);
    return input;
  }

  @Test
  void givenBatchApi_thenEveryRecordGoesThroughTheBatchOnceWithNoLiveCallAndBadOnesFail() throws Exception {
    Map<Object, Object> answers = PredictCommandIT.knownAnswers();
    Path input = inputWithTwoBadRecords();
    try (LoopbackLm lm = LoopbackLm.start("--batch-delay-s", "1")) {
      List<String> args = PredictCommandIT.predict(lm, "--input", input.toString(), "--output", "answers.jsonl",
          "--batch-api", "--batch-poll-interval", "200ms", "--max-failure-rate", "1");
      Dspex.Run r = Dspex.run(dir, PredictCommandIT.KEY, args.toArray(String[]::new)).expectExit(0)
          .expectNoStackTrace();
      assertEveryKnownAnswer(answers, r);
      Map<String, String> failed = Records.readJsonl(dir.resolve("answers.jsonl.failures.jsonl")).stream()
          .collect(Collectors.toMap(f -> String.valueOf(((Map<?, ?>) f.get("input")).get("id")),
              f -> String.valueOf(f.get("error_type"))));
      assertEquals(Map.of("bad-500", "BatchRequestFailed", "bad-expired", "BatchRequestExpired"), failed, r::toString);
      assertEquals(0, lm.chatCalls(), "no live call in batch mode");
      Map<String, Object> stats = lm.batchStats();
      assertEquals(52L, count(stats, "batch_requests"), () -> "every record submitted once: " + stats);
      long batches = count(stats, "batches_created");
      assertTrue(batches >= 1 && batches == count(stats, "files_uploaded"), stats::toString);
      Map<String, Object> state = Records.parse(Files.readString(dir.resolve("answers.jsonl.batches.json")));
      assertEquals("dspex-batches", state.get("format"));
      assertEquals(batches, ((List<?>) state.get("batches")).size());
    }
  }

  @Test
  void givenAJobKilledWhileItsBatchRuns_whenRunAgainWithTheSameOutput_thenTheBatchIsPickedUpNotSubmittedAgain()
      throws Exception {
    Map<Object, Object> answers = PredictCommandIT.knownAnswers();
    Path stateFile = dir.resolve("answers.jsonl.batches.json");
    try (LoopbackLm lm = LoopbackLm.start("--batch-delay-s", "20")) {
      List<String> args = PredictCommandIT.predict(lm, "--input", Records.qa().toString(), "--output",
          "answers.jsonl", "--batch-api", "--batch-poll-interval", "200ms");
      Path err = dir.resolve("first.stderr");
      Process first = Dspex.start(dir, err, PredictCommandIT.KEY, args.toArray(String[]::new));
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      while (lm.batchCount("batches_created") == 0 && System.nanoTime() < deadline) {
        assertTrue(first.isAlive(), () -> "the job ended before its batch was submitted: " + read(err));
        Thread.sleep(200);
      }
      assertTrue(lm.batchCount("batches_created") > 0, () -> "no batch submitted: " + read(err));
      // The batch is recorded before its creation is reported back; give the rename a moment.
      while (!Files.exists(stateFile) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      first.destroyForcibly();
      assertTrue(first.waitFor(2, TimeUnit.MINUTES), "the JVM did not end");
      long submitted = lm.batchCount("batches_created");
      long uploaded = lm.batchCount("files_uploaded");
      assertTrue(Files.exists(stateFile), () -> "no state file after the kill: " + read(err));

      Dspex.Run r = Dspex.run(dir, PredictCommandIT.KEY, args.toArray(String[]::new)).expectExit(0)
          .expectNoStackTrace();
      assertEveryKnownAnswer(answers, r);
      Map<String, Object> stats = lm.batchStats();
      assertEquals(submitted, count(stats, "batches_created"), () -> "submitted again: " + stats + r);
      assertEquals(uploaded, count(stats, "files_uploaded"), stats::toString);
      assertEquals(50L, count(stats, "batch_requests"), stats::toString);
      assertEquals(0, lm.chatCalls());
    }
  }

  private static long count(Map<String, Object> stats, String name) {
    return ((Number) stats.get(name)).longValue();
  }

  /** The output holds the 50 QA records, each with its known answer. */
  private void assertEveryKnownAnswer(Map<Object, Object> answers, Dspex.Run r) throws Exception {
    List<Map<String, Object>> rows = Records.readJsonl(dir.resolve("answers.jsonl"));
    assertEquals(50, rows.size(), r::toString);
    for (Map<String, Object> row : rows) {
      assertEquals(answers.get(row.get("id")), row.get("answer"), row::toString);
    }
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
