package org.dspex.beam.pipelines.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.dspex.beam.pipelines.Job;
import org.dspex.beam.pipelines.JobSettings;
import org.dspex.beam.pipelines.UsageError;
import org.dspex.beam.pipelines.io.InputProbe;
import org.dspex.beam.pipelines.io.RecordLayout;
import org.dspex.beam.transforms.DSPexPredict;
import org.dspex.beam.transforms.signature.Signature;
import org.dspex.beam.transforms.signature.SignatureField;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dspex predict}: a DSPy program on every record, with {@link DSPexPredict}. */
@Command(name = "predict", mixinStandardHelpOptions = true, showEndOfOptionsDelimiterInUsageHelp = true,
    resourceBundle = CommonOptions.MESSAGES,
    description = "Run a DSPy signature or program on every record.",
    footerHeading = "%nExamples:%n",
    footer = {
        "  dspex predict --signature 'question -> answer' --lm openai/gpt-4o-mini \\",
        "      --api-key-env OPENAI_API_KEY --input testdata/qa/qa.jsonl --output answers.jsonl",
        "  dspex predict --signature 'question, context: list[str] -> answer, confidence: float' \\",
        "      --lm openai/my-model --api-base http://127.0.0.1:8000/v1 --threads 16 \\",
        "      --input questions.parquet --output answers.parquet --keep-fields topic",
        "  dspex predict --program my_pkg.qa:build --program-state qa.json --python-path src \\",
        "      --lm openai/gpt-4o-mini --input qa.csv --output answers.jsonl",
        "  dspex predict --signature 'question -> answer' --lm openai/gpt-4o-mini --batch-api \\",
        "      --api-key-env OPENAI_API_KEY --input qa.jsonl --output answers.jsonl   # half the price",
        "",
        "Output columns: the id field, the kept fields, then the signature's (or program's) outputs.",
        "The signature's inputs are read from the fields of the same names.",
        "Exit codes: 0 done, 1 the job failed, 2 bad usage, 3 more failures than --max-failure-rate."})
public final class PredictCommand extends JobCommand {
  /** Exactly one of the two ways to name the program. */
  static final class ProgramChoice {
    @Option(names = "--signature", required = true, paramLabel = "SIGNATURE",
        description = "A DSPy signature, e.g. 'question -> answer' or 'text -> label: Literal[\"a\", \"b\"]'.")
    String signature;

    @Option(names = "--program", required = true, paramLabel = "MODULE:FACTORY",
        description = "A Python function returning a dspy.Module (see --python-path).")
    String program;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  ProgramChoice choice;

  @Option(names = "--chain-of-thought", description = "dspy.ChainOfThought instead of dspy.Predict"
      + " (signatures; adds a 'reasoning' output).")
  boolean chainOfThought;

  @Mixin LmOptions lm;

  @Mixin BatchApiOptions batchApi;

  @Override
  JobSettings adjust(JobSettings settings) {
    return batchApi.adjust(settings);
  }

  @Override
  LmOptions lmOptions() {
    return lm;
  }

  @Override
  Job job(JobSettings settings, InputProbe input) {
    DSPexPredict predict;
    try {
      predict = choice.signature != null ? DSPexPredict.of(choice.signature) : DSPexPredict.ofProgram(choice.program);
    } catch (IllegalArgumentException e) {
      throw new UsageError((choice.signature != null ? "bad --signature: " : "bad --program: ") + e.getMessage(), e);
    }
    if (chainOfThought) {
      if (choice.signature == null) {
        throw new UsageError("--chain-of-thought applies to --signature; build a ChainOfThought in the program");
      }
      predict = predict.withChainOfThought(true);
    }
    predict = batchApi.apply(settings.configure(lm.apply(predict, settings.runner(), lmCache.dir())), settings);
    if (lm.programState(settings.runner()) != null) {
      predict = predict.withProgramState(lm.programState(settings.runner()));
    }
    Signature sig = predict.getSignature();
    if (sig == null) {
      sig = ProgramFields.describe(settings, lm.withLocalPythonPath(predict), "--program " + choice.program);
      // Known now: the transform need not start a worker again to learn them.
      predict = predict.withOutputSchema(sig.outputSchema());
    }
    List<RecordLayout.Column> columns = new ArrayList<>();
    List<String> inputs = sig.inputNames();
    require(input, inputs, choice.signature != null ? "an input of the signature" : "an input of the program");
    for (SignatureField f : sig.inputs()) {
      columns.add(new RecordLayout.Column(f.name(), f.type(), false));
    }
    List<String> out = passThrough(input, columns, inputs);
    List<String> outputs = new ArrayList<>();
    if (chainOfThought) {
      outputs.add(DSPexPredict.REASONING_FIELD);
    }
    sig.outputs().forEach(f -> outputs.add(f.name()));
    for (String o : outputs) {
      if (out.contains(o) || inputs.contains(o)) {
        throw new UsageError("output field '" + o + "' is also an input or kept field; rename it in the"
            + " signature or leave it out of --keep-fields/--id-field");
      }
    }
    out.addAll(outputs);
    DSPexPredict t = predict;
    return new Job("predict", input, RecordLayout.of(columns),
        rows -> Job.ModelOutput.of(rows.apply("Predict", t)), out, Set.of(), Map.of());
  }
}
