package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./dspex optimize} end to end, as a user runs it: a training set written by {@code dspex
 * trainset} compiled with BootstrapFewShot against the loopback LM server, the program loaded by
 * DSPy, then {@code dspex predict --program-state} sending prompts that hold the compiled demos;
 * bad input (unusable examples, an unknown optimizer, a metric that raises); and Flink local mode.
 */
class OptimizeCommandIT {
  @TempDir Path dir;

  static List<String> optimize(LoopbackLm lm, String trainset, String output, String... more) {
    List<String> args = new ArrayList<>(List.of("optimize", "--signature", "question -> answer",
        "--trainset", trainset, "--optimizer", "bootstrap", "--option", "max_bootstrapped_demos=3",
        "--option", "max_labeled_demos=3", "--metric", "exact", "--lm", "openai/loopback", "--api-base",
        lm.apiBase(), "--api-key-env", "LOOPBACK_KEY", "--output", output));
    // An option given again replaces the default's value (picocli takes each option once).
    for (int i = 0; i < more.length; i++) {
      int at = args.indexOf(more[i]);
      if (more[i].startsWith("--") && !more[i].equals("--option") && at >= 0 && i + 1 < more.length) {
        args.set(at + 1, more[++i]);
      } else {
        args.add(more[i]);
      }
    }
    return args;
  }

  @Test
  void givenATrainsetFromTheCommand_thenOptimizeAndPredictWithItsProgramAsAUserWould() throws Exception {
    try (LoopbackLm lm = LoopbackLm.start()) {
      Dspex.run(dir, PredictCommandIT.KEY, TrainsetCommandIT.trainset(lm, Records.qa().toString(), "trainset.jsonl")
          .toArray(String[]::new)).expectExit(0).expectNoStackTrace();
      Dspex.Run o = Dspex.run(dir, PredictCommandIT.KEY, optimize(lm, "trainset.jsonl", "program.json")
          .toArray(String[]::new)).expectExit(0).expectNoStackTrace();
      assertTrue(o.stderr().contains("dspex optimize: done in"), o::toString);
      assertTrue(o.stderr().contains("examples   50 used: 40 train, 10 dev; 0 failed"), o::toString);
      assertTrue(o.stderr().contains("dev score  1.000 -> 1.000"), o::toString);
      assertTrue(o.stderr().contains("bootstrapped demo 3 after 3 attempts"), o::toString);
      Map<String, Object> summary = Records.parse(Files.readString(dir.resolve("program.json.optimize.json")));
      assertEquals(3, ((Number) summary.get("demos")).intValue());
      assertTrue(((Number) summary.get("lm_calls")).intValue() > 0, summary::toString);
      assertEquals(0, Files.size(dir.resolve("program.json.failures.jsonl")));

      // DSPy loads what the command wrote.
      Dspex.Run loaded = Dspex.python(dir, "import dspy, sys\n"
          + "p = dspy.Predict('question -> answer'); p.load(sys.argv[1])\n"
          + "print(len(p.demos), '|'.join(d['question'] + '=' + d['answer'] for d in p.demos))",
          dir.resolve("program.json").toString()).expectExit(0);
      String[] demos = loaded.stdout().trim().split(" ", 2);
      assertEquals("3", demos[0], loaded::toString);

      Files.write(dir.resolve("questions.jsonl"), List.of("{\"id\": \"peru\", \"question\": \"What is the capital of Peru?\"}"),
          StandardCharsets.UTF_8);
      int before = lm.prompts().size();
      Dspex.run(dir, PredictCommandIT.KEY, "predict", "--signature", "question -> answer", "--program-state",
          "program.json", "--lm", "openai/loopback", "--api-base", lm.apiBase(), "--api-key-env", "LOOPBACK_KEY",
          "--input", "questions.jsonl", "--output", "answers.jsonl").expectExit(0).expectNoStackTrace();
      List<String> prompts = lm.prompts();
      assertEquals(before + 1, prompts.size());
      String prompt = prompts.get(prompts.size() - 1);
      assertTrue(prompt.contains("What is the capital of Peru?"), prompt);
      for (String demo : demos[1].split("\\|")) {
        String[] qa = demo.split("=", 2);
        assertTrue(prompt.contains(qa[0]) && prompt.contains(qa[1]), "the prompt holds the demo " + demo);
      }
      assertEquals(1, Records.readJsonl(dir.resolve("answers.jsonl")).size());
    }
  }

  @Test
  void givenBadInput_thenUnusableExamplesReachTheFailuresFileAndBadSettingsAreOneLine() throws Exception {
    List<String> lines = new ArrayList<>();
    for (Map<String, Object> q : Records.readJsonl(Records.qa()).subList(0, 10)) {
      lines.add(Records.JSON.writeValueAsString(Map.of("question", q.get("question"), "answer", q.get("answer"))));
    }
    lines.add("{\"question\": \"What is the capital of Nowhere?\"}");
    lines.add("{\"question\": \"How many legs has a cat?\", \"answer\": 4}");
    Files.write(dir.resolve("train.jsonl"), lines, StandardCharsets.UTF_8);
    try (LoopbackLm lm = LoopbackLm.start()) {
      Dspex.Run r = Dspex.run(dir, PredictCommandIT.KEY, optimize(lm, "train.jsonl", "program.json")
          .toArray(String[]::new)).expectExit(3).expectNoStackTrace();
      assertTrue(r.stderr().contains("2 failed"), r::toString);
      Map<Integer, String> failed = new java.util.TreeMap<>();
      for (Map<String, Object> f : Records.readJsonl(dir.resolve("program.json.failures.jsonl"))) {
        failed.put(((Number) f.get("line")).intValue(), (String) f.get("error_type"));
      }
      assertEquals(Map.of(11, "MissingField", 12, "FieldTypeError"), failed);
      assertTrue(Files.exists(dir.resolve("program.json")));

      Dspex.Run unknown = Dspex.run(dir, PredictCommandIT.KEY, optimize(lm, "train.jsonl", "other.json",
          "--optimizer", "annealing").toArray(String[]::new)).expectExit(2).expectNoStackTrace();
      assertTrue(unknown.stderr().contains("dspex: error: the optimizer must be one of LabeledFewShot,"
          + " BootstrapFewShot, BootstrapFewShotWithRandomSearch, MIPROv2 (any case) or bootstrap, labeled, mipro,"
          + " random-search, was 'annealing'"), unknown::toString);

      Dspex.Run raising = Dspex.run(dir, Map.of("LOOPBACK_KEY", "loopback", "PYTHONPATH",
              Dspex.root().resolve("python/testing").toString()), optimize(lm, "train.jsonl", "raising.json",
          "--metric", "dspex_testing.lms:raising_metric", "--python-path", Dspex.root().resolve("python/testing")
              .toString()).toArray(String[]::new)).expectExit(1).expectNoStackTrace();
      assertTrue(raising.stderr().contains("MetricError: metric 'dspex_testing.lms:raising_metric' raised"
          + " ZeroDivisionError: division by zero"), raising::toString);
      assertTrue(!Files.exists(dir.resolve("raising.json")), "no program is written for a failed compile");

      // optuna is not in the worker lock (README, "MIPROv2 and optuna"): the command checks the worker's setup
      // before the job, as for a program that does not load (exit 2), and the line says what to install.
      boolean optuna = Dspex.python(dir, "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('optuna')"
          + " else 1)").exitCode() == 0;
      if (!optuna) {
        Dspex.Run mipro = Dspex.run(dir, PredictCommandIT.KEY, optimize(lm, "train.jsonl", "mipro.json",
            "--optimizer", "mipro", "--option", "auto=light").toArray(String[]::new)).expectExit(2).expectNoStackTrace();
        assertTrue(mipro.stderr().contains("MIPROv2 needs the Python package 'optuna', which the worker's environment"
            + " does not have: install it into the worker's Python (pip install optuna)"), mipro::toString);
        assertTrue(!Files.exists(dir.resolve("mipro.json")), "no program is written without optuna");
      }
    }
  }

  @Test
  void givenTheCommittedTrainset_onFlinkWithParallelism2_thenItCompiles() throws Exception {
    try (LoopbackLm lm = LoopbackLm.start()) {
      Dspex.Run r = Dspex.run(dir, PredictCommandIT.KEY, optimize(lm,
          Dspex.testdata("trainset/qa_trainset.jsonl").toString(), "program.json", "--runner", "FlinkRunner",
          "--parallelism", "2").toArray(String[]::new)).expectExit(0).expectNoStackTrace();
      assertTrue(r.stderr().contains("examples   50 used: 40 train, 10 dev; 0 failed"), r::toString);
    }
    assertTrue(Files.readString(dir.resolve("program.json")).contains("\"demos\""));
  }
}
