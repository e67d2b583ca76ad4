package org.dspex.beam.pipelines.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.FileSystems;
import org.dspex.beam.pipelines.JobRunner;
import org.dspex.beam.pipelines.JobSettings;
import org.dspex.beam.pipelines.RemoteWorkers;
import org.dspex.beam.pipelines.UsageError;
import org.dspex.beam.pipelines.io.BeamFiles;
import org.dspex.beam.pipelines.io.InputProbe;
import org.dspex.beam.pipelines.io.Json;
import org.dspex.beam.pipelines.io.OutputAssembly;
import org.dspex.beam.pipelines.io.OutputTarget;
import org.dspex.beam.pipelines.io.RecordLayout;
import org.dspex.beam.pipelines.optimize.ConsoleProgress;
import org.dspex.beam.pipelines.optimize.OptimizeStep;
import org.dspex.beam.pipelines.optimize.Summary;
import org.dspex.beam.transforms.DSPexOptimize;
import org.dspex.beam.transforms.signature.Signature;
import org.dspex.beam.transforms.signature.SignatureField;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code dspex optimize}: compile a DSPy program with one of DSPy's optimizers over a training set
 * (a file {@code dspex trainset} wrote, or any JSONL, CSV or Parquet file of input and label
 * fields), and write the compiled program as {@code program.save} does, for {@code dspex predict
 * --program-state}.
 */
@Command(name = "optimize", mixinStandardHelpOptions = true, showEndOfOptionsDelimiterInUsageHelp = true,
    resourceBundle = CommonOptions.MESSAGES,
    description = "Compile a DSPy program with a DSPy optimizer over a training set; write the compiled program.",
    footerHeading = "%nExamples:%n",
    footer = {
        "  dspex optimize --signature 'question -> answer' --trainset trainset.jsonl \\",
        "      --optimizer bootstrap --metric exact --lm openai/gpt-4o-mini --output program.json",
        "  dspex predict --signature 'question -> answer' --program-state program.json \\",
        "      --lm openai/gpt-4o-mini --input questions.jsonl --output answers.jsonl",
        "  dspex optimize --program my_pkg.qa:build --python-path src --trainset train.parquet \\",
        "      --devset dev.parquet --optimizer mipro --option auto=light --metric my_pkg.metrics:f1 \\",
        "      --lm openai/gpt-4o-mini --teacher-lm openai/gpt-4o --output qa.json",
        "",
        "Optimizers: LabeledFewShot, BootstrapFewShot, BootstrapFewShotWithRandomSearch, MIPROv2 (any",
        "case), or labeled, bootstrap, random-search, mipro. --option KEY=VALUE passes an option of the",
        "optimizer (VALUE as JSON when it parses: 4, true, \"light\"; else text). Examples that lack a",
        "field or hold another type go to <output>.failures.jsonl; <output>.optimize.json holds the",
        "dev scores, LM calls and tokens. The examples go to one worker in one request (--format auto:",
        "Arrow from 10,000 examples, a shared-memory file from 64 MiB); --request-timeout bounds the",
        "longest stretch of the compile without progress (one LM call), --compile-timeout the whole",
        "compile; a failed compile is not retried.",
        "Exit codes: 0 done, 1 the compile failed (or no usable example), 2 bad usage, 3 more unusable",
        "examples than --max-failure-rate."})
public final class OptimizeCommand implements Callable<Integer> {
  /** Exactly one of a signature and a program. */
  static final class ProgramChoice {
    @Option(names = "--signature", required = true, paramLabel = "SIGNATURE",
        description = "A DSPy signature, compiled as a dspy.Predict (or ChainOfThought).")
    String signature;

    @Option(names = "--program", required = true, paramLabel = "MODULE:FACTORY",
        description = "A function returning the dspy.Module to compile (found on --python-path).")
    String program;
  }

  @ArgGroup(exclusive = true, multiplicity = "1") ProgramChoice choice;

  @Option(names = "--chain-of-thought", description = "Signatures: compile a dspy.ChainOfThought.")
  boolean chainOfThought;

  @Option(names = "--trainset", required = true, paramLabel = "FILE|GLOB",
      description = "The examples: JSONL, CSV or Parquet records of the program's inputs and label fields.")
  String trainset;

  @Option(names = "--devset", paramLabel = "FILE|GLOB",
      description = "Dev examples that score the program before and after (default: --dev-fraction of the trainset).")
  String devset;

  @Option(names = "--dev-fraction", paramLabel = "F", defaultValue = "0.2",
      description = "Share of the trainset held out as dev examples without --devset; 0: none (default: ${DEFAULT-VALUE}).")
  double devFraction;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
      description = "Orders the examples and seeds the optimizer (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "bootstrap",
      description = "The DSPy optimizer (default: ${DEFAULT-VALUE}); see below.")
  String optimizer;

  @Option(names = "--option", paramLabel = "KEY=VALUE",
      description = "An option of the optimizer, e.g. max_bootstrapped_demos=4, num_candidates=8, auto=light.")
  Map<String, String> options = new LinkedHashMap<>();

  @Option(names = "--metric", defaultValue = "exact", paramLabel = "exact|contains|MODULE:FUNCTION",
      description = "exact, contains, or a DSPy metric function(example, pred, trace=None) (default: ${DEFAULT-VALUE}).")
  String metric;

  @Option(names = "--metric-threshold", paramLabel = "SCORE",
      description = "A numeric metric accepts a bootstrapped demo from this score on (default: any truthy result).")
  Double threshold;

  @Option(names = "--label-field", paramLabel = "A,B", split = ",",
      description = "The program's outputs the examples carry and the metric compares (default: its outputs the trainset has).")
  List<String> labelFields = new ArrayList<>();

  @Mixin LmOptions lm;

  @Option(names = "--teacher-lm", paramLabel = "PROVIDER/MODEL",
      description = "The LM that bootstraps demos and proposes instructions (default: --lm).")
  String teacherLm;

  @Option(names = "--teacher-api-base", paramLabel = "URL", description = "The teacher LM's base URL.")
  String teacherApiBase;

  @Option(names = "--teacher-api-key-env", paramLabel = "VAR",
      description = "NAME of the variable holding the teacher's API key (default: the provider's usual one).")
  String teacherApiKeyEnv;

  @Option(names = "--compile-timeout", paramLabel = "DURATION",
      description = "Longest the whole compile may take, e.g. 30m, 2h (default: no limit).")
  String compileTimeout;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
      description = "The compiled program (DSPy's program.save JSON).")
  String output;

  @Mixin JobOptions job;

  @Override
  public Integer call() throws Exception {
    JobSettings settings = settings();
    FileSystems.setDefaultPipelineOptions(settings.pipelineOptions());
    RemoteWorkers.requireReadable(settings.runner(), "--trainset", trainset);
    if (devset != null) {
      RemoteWorkers.requireReadable(settings.runner(), "--devset", devset);
    }
    RemoteWorkers.requireWritable(settings.runner(), "--output", output);
    InputProbe train = probe(trainset, "--trainset");
    InputProbe dev = devset == null ? null : probe(devset, "--devset");
    DSPexOptimize optimize = transform(settings);
    String what = choice.signature != null ? "--signature " + choice.signature : "--program " + choice.program;
    Signature sig = ProgramFields.describe(settings, lm.withLocalPythonPath(optimize), what);
    List<SignatureField> labels = labels(sig, train);
    optimize = optimize.withLabelFields(labels.stream().map(SignatureField::name).toArray(String[]::new));
    List<RecordLayout.Column> columns = new ArrayList<>();
    List<String> inputs = new ArrayList<>();
    for (SignatureField f : sig.inputs()) {
      columns.add(new RecordLayout.Column(f.name(), f.type(), true));
      inputs.add(f.name());
    }
    for (SignatureField f : labels) {
      columns.add(new RecordLayout.Column(f.name(), f.type(), true));
    }
    JobCommand.require(train, inputs, "an input of the program");
    if (dev != null) {
      JobCommand.require(dev, columns.stream().map(RecordLayout.Column::name).toList(), "a field of the trainset");
    }
    JobRunner runner = new JobRunner(settings, System.err, false);
    OutputTarget target = runner.prepareOutput();
    Pipeline p = Pipeline.create(settings.pipelineOptions());
    OptimizeStep.build(p, optimize, RecordLayout.of(columns), train, dev, target, settings.blockRecords());
    System.err.println("dspex optimize: " + optimize.getOptimizer() + " over " + trainset
        + (dev != null ? " (dev set " + devset + ")" : "") + "; labels " + labels.stream().map(SignatureField::name)
        .toList() + ", metric " + metric);
    long t0 = System.nanoTime();
    Summary summary;
    try {
      runner.runToEnd(p);
      OutputTarget staged = OutputAssembly.assemble(target, null);
      summary = Summary.read(staged.output(), lines(staged.failures()));
      if (summary.result() == null) {
        // Nothing compiled: no program replaces the old one, which goes, as its result does.
        BeamFiles.delete(staged.output());
      }
      runner.replace(staged, target);
    } finally {
      runner.release(target);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (summary.result() == null) {
      System.err.println("dspex: error: no usable example in " + trainset + ": all " + summary.failed()
          + " failed (see " + target.failures() + "); nothing was compiled");
      return ExitCodes.JOB_FAILED;
    }
    summary.print(System.err, target.output(), target.failures(), seconds);
    double rate = (double) summary.failed() / (summary.failed() + summary.used());
    if (rate > settings.maxFailureRate()) {
      System.err.printf("dspex: %.2f%% of the examples could not be used, above --max-failure-rate %s%n",
          100 * rate, settings.maxFailureRate());
      return ExitCodes.TOO_MANY_FAILURES;
    }
    return ExitCodes.OK;
  }

  /** The shared settings, checked, with the trainset as the input and the program file as the output. */
  private JobSettings settings() {
    return job.settings(trainset, null, output, 0, 1, null);
  }

  private InputProbe probe(String pattern, String option) {
    try {
      return InputProbe.of(pattern, null, job.maxLineBytes);
    } catch (InputProbe.InputException e) {
      throw new UsageError(option + ": " + e.getMessage(), e);
    }
  }

  private DSPexOptimize transform(JobSettings settings) {
    try {
      DSPexOptimize t = choice.signature != null ? DSPexOptimize.of(choice.signature)
          : DSPexOptimize.ofProgram(choice.program);
      t = lm.apply(t.withChainOfThought(chainOfThought), settings.runner())
          .withOptimizer(DSPexOptimize.optimizerName(optimizer))
          .withMetric(metric).withDevFraction(devFraction).withSeed(seed)
          .withProgressListener(new ConsoleProgress());
      if (lm.programState(settings.runner()) != null) {
        t = t.withProgramState(lm.programState(settings.runner()));
      }
      for (Map.Entry<String, String> o : options.entrySet()) {
        t = t.withOptimizerOption(o.getKey(), optionValue(o.getValue()));
      }
      if (threshold != null) {
        t = t.withMetricThreshold(threshold);
      }
      if (teacherLm != null) {
        t = t.withTeacherModel(teacherLm);
      }
      if (teacherApiBase != null) {
        t = t.withTeacherApiBase(teacherApiBase);
      }
      if (teacherApiKeyEnv != null) {
        LmOptions.requireKey(teacherApiKeyEnv, "--teacher-api-key-env", settings.runsHere());
        t = t.withTeacherApiKeyEnv(teacherApiKeyEnv);
      }
      if (compileTimeout != null) {
        t = t.withCompileTimeout(JobOptions.duration("--compile-timeout", compileTimeout));
      }
      return settings.configure(t);
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage(), e);
    }
  }

  /** The value as JSON when it parses ({@code 4}, {@code true}, {@code "light"}), else the text. */
  static Object optionValue(String text) {
    try {
      return Json.parse(text);
    } catch (IOException e) {
      return text;
    }
  }

  /** The label fields: those given, else the program's outputs the trainset has. */
  private List<SignatureField> labels(Signature sig, InputProbe train) {
    List<SignatureField> labels = new ArrayList<>();
    for (SignatureField o : sig.outputs()) {
      if (labelFields.isEmpty() ? train.fieldNames().contains(o.name()) : labelFields.contains(o.name())) {
        labels.add(o);
      }
    }
    for (String given : labelFields) {
      if (labels.stream().noneMatch(f -> f.name().equals(given))) {
        throw new UsageError("--label-field " + given + " is not an output of the program; its outputs are "
            + sig.outputs().stream().map(SignatureField::name).toList());
      }
    }
    if (labels.isEmpty()) {
      throw new UsageError("--trainset " + trainset + " holds none of the program's outputs "
          + sig.outputs().stream().map(SignatureField::name).toList() + " (the labels the metric compares); its fields are "
          + train.fieldNames());
    }
    JobCommand.require(train, labels.stream().map(SignatureField::name).toList(), "a label field");
    return labels;
  }

  private static long lines(String file) throws IOException {
    if (!BeamFiles.exists(file)) {
      return 0;
    }
    try (BufferedReader r = BeamFiles.reader(file)) {
      return r.lines().filter(l -> !l.isBlank()).count();
    }
  }
}
