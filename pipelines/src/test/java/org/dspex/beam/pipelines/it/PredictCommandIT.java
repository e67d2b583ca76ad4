package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./dspex predict} end to end against the loopback LM server (deterministic answers: the QA
 * set's known ones): CSV in, Parquet out with some records failing on malformed LM output, then
 * just those records re-run from the failures file against a healthy server; a second run over
 * the same {@code --cache-dir} that makes no LM call; and JSONL on the FlinkRunner in local mode.
 */
class PredictCommandIT {
  /** The loopback server takes any key; the worker reads it from this variable. */
  static final Map<String, String> KEY = Map.of("LOOPBACK_KEY", "loopback");

  @TempDir Path dir;

  static List<String> predict(LoopbackLm lm, String... more) {
    List<String> args = new ArrayList<>(List.of("predict", "--signature", "question -> answer",
        "--lm", "openai/loopback", "--api-base", lm.apiBase(), "--api-key-env", "LOOPBACK_KEY"));
    args.addAll(List.of(more));
    return args;
  }

  /** QA id -> its known answer. */
  static Map<Object, Object> knownAnswers() throws Exception {
    return Records.readJsonl(Records.qa()).stream()
        .collect(Collectors.toMap(q -> q.get("id"), q -> q.get("answer")));
  }

  @Test
  void givenMalformedAnswersForSomeQuestions_thenTheyFailAndTheirReplayAloneReachesTheLm() throws Exception {
    // The QA set as CSV, written by Python's csv module (quoting included).
    Dspex.python(dir, String.join("\n",
        "import csv, json, sys",
        "rows = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]",
        "with open('qa.csv', 'w', newline='', encoding='utf-8') as f:",
        "    w = csv.DictWriter(f, fieldnames=['id', 'question', 'answer'])",
        "    w.writeheader()",
        "    w.writerows(rows)"), Records.qa().toString()).expectExit(0);
    Map<Object, Object> answers = knownAnswers();

    List<String> failedIds;
    try (LoopbackLm flaky = LoopbackLm.start("--rate-malformed", "0.5")) {
      List<String> args = predict(flaky, "--input", "qa.csv", "--output", "answers.parquet",
          "--keep-fields", "question", "--max-failure-rate", "1");
      Dspex.Run r = Dspex.run(dir, KEY, args.toArray(String[]::new)).expectExit(0).expectNoStackTrace();
      assertTrue(r.stderr().contains("LM tokens"), r::toString);

      List<Map<String, Object>> rows = Records.readParquet(dir.resolve("answers.parquet"));
      List<Map<String, Object>> failures = Records.readJsonl(dir.resolve("answers.parquet.failures.jsonl"));
      assertTrue(!failures.isEmpty() && !rows.isEmpty(),
          () -> "half the loopback's answers are malformed (per prompt, deterministic): " + rows.size()
              + " written, " + failures.size() + " failed; " + r);
      assertEquals(50, rows.size() + failures.size());
      for (Map<String, Object> row : rows) {
        assertEquals(List.of("id", "question", "answer"), new ArrayList<>(row.keySet()));
        assertEquals(answers.get(row.get("id")), row.get("answer"), row::toString);
      }
      Map<String, Object> readers = Records.readWithPythonTools(dir.resolve("answers.parquet"), null);
      for (String reader : List.of("pyarrow", "pandas", "duckdb")) {
        @SuppressWarnings("unchecked")
        Map<String, Object> seen = (Map<String, Object>) readers.get(reader);
        assertEquals(List.of("id", "question", "answer"), seen.get("columns"), reader);
        assertEquals(rows.size(), ((Number) seen.get("rows")).intValue(), reader);
      }
      failedIds = new ArrayList<>();
      for (Map<String, Object> f : failures) {
        assertEquals("AdapterParseError", f.get("error_type"), f::toString);
        @SuppressWarnings("unchecked")
        Map<String, Object> input = (Map<String, Object>) f.get("input");
        failedIds.add(String.valueOf(input.get("id")));
        // CSV line numbers: the header is line 1, so QA record k (qa-00k) is line k + 1.
        int k = Integer.parseInt(((String) input.get("id")).substring(3));
        assertEquals(k + 1, ((Number) f.get("line")).intValue(), f::toString);
      }
    }

    try (LoopbackLm healthy = LoopbackLm.start()) {
      List<String> args = predict(healthy, "--input", "answers.parquet.failures.jsonl", "--output", "retry.parquet",
          "--keep-fields", "question");
      Dspex.Run r = Dspex.run(dir, KEY, args.toArray(String[]::new)).expectExit(0).expectNoStackTrace();
      List<Map<String, Object>> rows = Records.readParquet(dir.resolve("retry.parquet"));
      assertEquals(new TreeSet<>(failedIds), Records.ids(rows), r::toString);
      for (Map<String, Object> row : rows) {
        assertEquals(answers.get(row.get("id")), row.get("answer"), row::toString);
      }
      assertEquals(0, Files.size(dir.resolve("retry.parquet.failures.jsonl")));
      assertEquals(failedIds.size(), healthy.chatCalls(), "only the failed records reach the LM again");
    }
  }

  @Test
  void givenAProgramWhoseModuleExitsOnImport_thenExit1WithinNinetySecondsNamingExitCode7() throws Exception {
    Path programs = Files.createDirectories(dir.resolve("programs"));
    Files.writeString(programs.resolve("exits_on_import.py"), String.join("\n",
        "import os, sys",
        "sys.stderr.write('exits_on_import: giving up\\n')",
        "os._exit(7)",
        ""));
    try (LoopbackLm lm = LoopbackLm.start()) {
      List<String> cmd = new ArrayList<>(List.of(Dspex.root().resolve("dspex").toString()));
      cmd.addAll(predict(lm, "--input", Records.qa().toString(), "--output", "answers.jsonl"));
      // --program instead of the signature predict() gives.
      cmd.set(cmd.indexOf("--signature"), "--program");
      cmd.set(cmd.indexOf("--program") + 1, "exits_on_import:build");
      cmd.addAll(List.of("--python-path", programs.toString()));
      Map<String, String> env = new HashMap<>(KEY);
      env.put("DSPEX_SKIP_BUILD", "1");
      long t0 = System.nanoTime();
      // It used to restart the worker forever (backoff 1, 2, 4 ... 60 s), printing nothing.
      Dspex.Run r = Dspex.exec(cmd, dir, env, Duration.ofSeconds(90)).expectExit(1).expectNoStackTrace();
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
      assertEquals(1, r.errorLines().size(), r::toString);
      String error = r.errorLines().get(0);
      assertTrue(error.startsWith("dspex: error: the job failed: "), r::toString);
      assertTrue(error.contains("3 worker starts in a row failed"), r::toString);
      assertTrue(error.contains("died during start/setup"), r::toString);
      assertTrue(error.contains("exited with exit code 7"), r::toString);
      assertTrue(seconds < 90, () -> seconds + " s");
      assertEquals(0, lm.chatCalls());
    }
  }

  @Test
  void givenACacheDir_whenTheSameJobRunsTwice_thenTheSecondMakesNoLmCallAndWritesTheSameAnswers()
      throws Exception {
    Map<Object, Object> answers = knownAnswers();
    try (LoopbackLm lm = LoopbackLm.start()) {
      for (String out : List.of("first.jsonl", "second.jsonl")) {
        List<String> args = predict(lm, "--input", Records.qa().toString(), "--output", out,
            "--cache-dir", "lm-cache");
        Dspex.Run r = Dspex.run(dir, KEY, args.toArray(String[]::new)).expectExit(0).expectNoStackTrace();
        List<Map<String, Object>> rows = Records.readJsonl(dir.resolve(out));
        assertEquals(50, rows.size(), r::toString);
        for (Map<String, Object> row : rows) {
          assertEquals(answers.get(row.get("id")), row.get("answer"), row::toString);
        }
        assertEquals(50, lm.chatCalls(), () -> "LM calls after " + out + "; " + r);
      }
    }
    assertTrue(Files.isDirectory(dir.resolve("lm-cache")));
  }

  @Test
  void givenTheQaSet_onFlinkWithParallelism2_thenEveryKnownAnswerWithOneLmCallEach() throws Exception {
    Map<Object, Object> answers = knownAnswers();
    try (LoopbackLm lm = LoopbackLm.start()) {
      List<String> args = predict(lm, "--input", Records.qa().toString(), "--output", "answers.jsonl",
          "--runner", "FlinkRunner", "--parallelism", "2", "--threads", "4");
      Dspex.Run r = Dspex.run(dir, KEY, args.toArray(String[]::new)).expectExit(0).expectNoStackTrace();
      assertTrue(r.stderr().contains("50: 50 written"), r::toString);
      List<Map<String, Object>> rows = Records.readJsonl(dir.resolve("answers.jsonl"));
      assertEquals(50, rows.size());
      assertEquals(new TreeSet<>(answers.keySet().stream().map(String::valueOf).collect(Collectors.toList())),
          Records.ids(rows));
      for (Map<String, Object> row : rows) {
        assertEquals(List.of("id", "answer"), new ArrayList<>(row.keySet()));
        assertEquals(answers.get(row.get("id")), row.get("answer"), row::toString);
      }
      assertEquals(50, lm.chatCalls());
    }
  }
}
