package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.transforms.DSPexOptimize;
import org.dspex.beam.transforms.DSPexPredict;
import org.dspex.beam.transforms.DSPexResult;
import org.dspex.beam.transforms.optimize.OptimizeResult;

/**
 * {@code bench/run mipro}: DSPy's MIPROv2 with {@code auto="light"} compiling {@code question ->
 * answer} through {@code DSPexOptimize} on the DirectRunner, over the committed training set
 * ({@code testdata/trainset/qa_trainset.jsonl}, 50 examples, a fifth held out as the dev set),
 * against the loopback LM server (no latency, no cache); then {@code DSPexPredict} with the saved
 * program over the dev questions, to show that its prompts carry the instructions MIPROv2 chose.
 * MIPROv2 needs {@code optuna}, which the worker venv's lock file does not hold: {@code bench/run}
 * installs it (and its four missing dependencies, {@code bench/py/mipro-requirements.txt}) into
 * {@value #DEPS}, which this benchmark puts on the worker's {@code PYTHONPATH}. Measures, never
 * asserts.
 */
final class MiproBench {
  static final String DEPS = "bench/work/mipro-deps";
  private static final AtomicReference<Row> RESULT = new AtomicReference<>();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Schema SCHEMA = Schema.builder().addStringField("question").addStringField("answer").build();

  private final BenchEnvironment env;

  MiproBench(BenchEnvironment env) {
    this.env = env;
  }

  void run() throws Exception {
    Path deps = env.root().resolve(DEPS);
    if (!Files.isDirectory(deps.resolve("optuna"))) {
      throw new IllegalStateException("optuna is not installed in " + deps + " (bench/run mipro installs it)");
    }
    List<Row> rows = new ArrayList<>();
    List<String> questions = new ArrayList<>();
    for (String line : Files.readAllLines(env.root().resolve("testdata/trainset/qa_trainset.jsonl"))) {
      if (!line.isBlank()) {
        JsonNode r = JSON.readTree(line);
        rows.add(Row.withSchema(SCHEMA).addValues(r.get("question").asText(), r.get("answer").asText()).build());
        questions.add(r.get("question").asText());
      }
    }
    Path work = env.work("mipro");
    Path program = work.resolve("program.json");
    try (LoopbackServer server = LoopbackServer.start(env, 0, 1200)) {
      Pipeline compile = Pipeline.create(options());
      DSPexResult r = compile.apply(Create.of(rows).withRowSchema(SCHEMA))
          .apply(DSPexOptimize.of("question -> answer").withOptimizer("MIPROv2")
              .withOptimizerOption("auto", "light").withMetric("exact").withDevFraction(0.2).withSeed(0)
              .withModel("openai/loopback").withApiBase(server.apiBase()).withApiKeyEnv(PredictBench.KEY_ENV)
              .withCache(false).withPython(env.python().toString()).withPythonPath(deps.toString())
              .withProgressListener(e -> System.out.println("mipro " + e.line())));
      r.output().apply(ParDo.of(new Keep()));
      long t0 = System.nanoTime();
      compile.run().waitUntilFinish();
      double seconds = (System.nanoTime() - t0) / 1e9;
      Row result = RESULT.get();
      JsonNode compileStats = server.stats();
      Files.writeString(program, result.getString(OptimizeResult.PROGRAM_JSON), StandardCharsets.UTF_8);
      String instructions = JSON.readTree(program.toFile()).get("signature").get("instructions").asText();

      // The compiled program at work: its instructions in every prompt DSPexPredict sends.
      server.reset();
      List<KV<String, String>> dev = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        dev.add(KV.of("q" + i, questions.get(questions.size() - 1 - i)));
      }
      Pipeline predict = Pipeline.create(options());
      predict.apply(Create.of(dev)).apply(DSPexPredict.of("question -> answer").withProgramState(program.toString())
          .withModel("openai/loopback").withApiBase(server.apiBase()).withApiKeyEnv(PredictBench.KEY_ENV)
          .withCache(false).withPython(env.python().toString()));
      predict.run().waitUntilFinish();
      List<String> prompts = server.prompts();
      long carrying = prompts.stream().filter(p -> p.contains(instructions)).count();

      Map<String, Object> out = new LinkedHashMap<>();
      out.put("machine", BenchEnvironment.machine());
      out.put("optimizer", "MIPROv2 auto=light");
      out.put("trainset_size", result.getInt64("trainset_size"));
      out.put("devset_size", result.getInt64("devset_size"));
      out.put("dev_score_before", result.getDouble("dev_score_before"));
      out.put("dev_score_after", result.getDouble("dev_score_after"));
      out.put("trials", result.getInt64("trials"));
      out.put("demos", result.getInt64("demos"));
      out.put("lm_calls", result.getInt64("lm_calls"));
      out.put("server_chat_calls", compileStats.get("chat_calls").asLong());
      out.put("prompt_tokens", result.getInt64("prompt_tokens"));
      out.put("completion_tokens", result.getInt64("completion_tokens"));
      out.put("compile_seconds_on_worker", result.getDouble("seconds"));
      out.put("pipeline_seconds", EmbedBench.round(seconds));
      out.put("instructions", instructions);
      out.put("predict_prompts", prompts.size());
      out.put("predict_prompts_with_the_instructions", carrying);
      out.put("setup", "loopback server --latency-ms 0, cache off; DSPexOptimize on the DirectRunner (1 thread), "
          + "1 worker, 8 threads; optuna " + optunaVersion(deps) + " from " + DEPS);
      EmbedBench.write("mipro", out);
    }
  }

  private static PipelineOptions options() {
    PipelineOptions options = PipelineOptionsFactory.create();
    options.setRunner(DirectRunner.class);
    options.as(DirectOptions.class).setTargetParallelism(1);
    return options;
  }

  private static String optunaVersion(Path deps) throws Exception {
    try (var dirs = Files.list(deps)) {
      return dirs.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("optuna-") && n.endsWith(".dist-info"))
          .map(n -> n.substring("optuna-".length(), n.length() - ".dist-info".length())).findFirst().orElse("?");
    }
  }

  /** Keeps the one result row (the DirectRunner runs it in this JVM). */
  static final class Keep extends DoFn<Row, Void> {
    @ProcessElement
    public void process(@Element Row row) {
      RESULT.set(row);
    }
  }
}
