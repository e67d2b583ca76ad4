package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./dspex trainset} end to end against the loopback LM server: the teacher labels the QA
 * set, the exact metric rejects the records whose gold label is wrong, and DSPy's optimizers
 * compile from the written file ({@code python/tests/test_trainset_optimizer.py} run on it); and
 * the same on the FlinkRunner in local mode.
 */
class TrainsetCommandIT {
  /** QA ids whose gold label this test makes wrong (the teacher answers right, so exact rejects). */
  static final Set<String> WRONG_GOLD = Set.of("qa-002", "qa-010", "qa-023", "qa-037", "qa-050");

  @TempDir Path dir;

  static List<String> trainset(LoopbackLm lm, String input, String output, String... more) {
    List<String> args = new ArrayList<>(List.of("trainset", "--teacher", "question -> answer",
        "--lm", "openai/loopback", "--api-base", lm.apiBase(), "--api-key-env", "LOOPBACK_KEY",
        "--label-field", "answer", "--metric", "exact", "--input", input, "--output", output));
    args.addAll(List.of(more));
    return args;
  }

  @Test
  void givenSomeWrongGoldLabels_thenTheRestIsATrainsetThatDspyOptimizersCompile() throws Exception {
    List<Map<String, Object>> qa = Records.readJsonl(Records.qa());
    Map<String, Object> known = new TreeMap<>();
    List<String> lines = new ArrayList<>();
    for (Map<String, Object> q : qa) {
      known.put((String) q.get("question"), q.get("answer"));
      if (WRONG_GOLD.contains(q.get("id"))) {
        q.put("answer", "Atlantis");
      }
      lines.add(Records.JSON.writeValueAsString(q));
    }
    Files.write(dir.resolve("qa.jsonl"), lines, StandardCharsets.UTF_8);

    try (LoopbackLm lm = LoopbackLm.start()) {
      Dspex.Run r = Dspex.run(dir, PredictCommandIT.KEY,
          trainset(lm, "qa.jsonl", "trainset.jsonl").toArray(String[]::new)).expectExit(0).expectNoStackTrace();
      assertTrue(r.stderr().contains("50: 45 written"), r::toString);
      assertTrue(r.stderr().contains("with_inputs('question')"), r::toString);
      assertEquals(50, lm.chatCalls());
    }
    List<Map<String, Object>> records = Records.readJsonl(dir.resolve("trainset.jsonl"));
    assertEquals(45, records.size());
    for (Map<String, Object> rec : records) {
      assertEquals(List.of("question", "answer"), new ArrayList<>(rec.keySet()));
      assertEquals(known.get(rec.get("question")), rec.get("answer"), rec::toString);
    }
    Map<String, Object> sidecar = Records.parse(Files.readString(dir.resolve("trainset.jsonl.inputs.json")));
    assertEquals(List.of("question"), sidecar.get("inputs"));
    assertEquals(List.of("answer"), sidecar.get("outputs"));
    Map<Integer, String> rejected = new TreeMap<>();
    for (Map<String, Object> f : Records.readJsonl(dir.resolve("trainset.jsonl.failures.jsonl"))) {
      rejected.put(((Number) f.get("line")).intValue(), (String) f.get("error_type"));
    }
    Map<Integer, String> expected = new TreeMap<>();
    for (String id : WRONG_GOLD) {
      expected.put(Integer.parseInt(id.substring(3)), "Rejected");
    }
    assertEquals(expected, rejected);

    // What the command wrote is what a DSPy optimizer loads.
    Dspex.Run pytest = Dspex.exec(List.of("bash", Dspex.root().resolve("python/tools/run-pytest.sh").toString(),
            "tests/test_trainset_optimizer.py"), dir,
        Map.of("DSPEX_TRAINSET", dir.resolve("trainset.jsonl").toString()), Duration.ofMinutes(3));
    pytest.expectExit(0);
    assertTrue(pytest.stdout().contains("3 passed"), pytest::toString);
  }

  @Test
  void givenTheQaSet_onFlinkWithParallelism2_thenEveryRecordIsAccepted() throws Exception {
    try (LoopbackLm lm = LoopbackLm.start()) {
      Dspex.Run r = Dspex.run(dir, PredictCommandIT.KEY, trainset(lm, Records.qa().toString(), "trainset.jsonl",
          "--runner", "FlinkRunner", "--parallelism", "2").toArray(String[]::new)).expectExit(0).expectNoStackTrace();
      assertTrue(r.stderr().contains("50: 50 written"), r::toString);
    }
    List<Map<String, Object>> records = Records.readJsonl(dir.resolve("trainset.jsonl"));
    Map<Object, Object> known = new TreeMap<>();
    for (Map<String, Object> q : Records.readJsonl(Records.qa())) {
      known.put(q.get("question"), q.get("answer"));
    }
    assertEquals(50, records.size());
    for (Map<String, Object> rec : records) {
      assertEquals(known.get(rec.get("question")), rec.get("answer"), rec::toString);
    }
    assertEquals(0, Files.size(dir.resolve("trainset.jsonl.failures.jsonl")));
    assertTrue(Files.exists(dir.resolve("trainset.jsonl.inputs.json")));
  }
}
