package org.dspex.beam.pipelines.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.dspex.beam.pipelines.Job;
import org.dspex.beam.pipelines.JobSettings;
import org.dspex.beam.pipelines.UsageError;
import org.dspex.beam.pipelines.io.InputProbe;
import org.dspex.beam.pipelines.io.OutputTarget;
import org.dspex.beam.pipelines.io.RecordLayout;
import org.dspex.beam.pipelines.trainset.InputsFile;
import org.dspex.beam.pipelines.trainset.TrainsetStep;
import org.dspex.beam.transforms.DSPexPredict;
import org.dspex.beam.transforms.signature.Signature;
import org.dspex.beam.transforms.signature.SignatureField;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code dspex trainset}: label inputs with a teacher program, keep the records whose answer the
 * metric accepts, and write them as {@code dspy.Example} records.
 */
@Command(name = "trainset", mixinStandardHelpOptions = true, showEndOfOptionsDelimiterInUsageHelp = true,
    resourceBundle = CommonOptions.MESSAGES,
    description = "Label inputs with a teacher, keep what the metric accepts, write dspy.Example records.",
    footerHeading = "%nExamples:%n",
    footer = {
        "  dspex trainset --teacher 'question -> answer' --lm openai/gpt-4o-mini \\",
        "      --label-field answer --metric exact --input qa.jsonl --output trainset.jsonl",
        "  dspex trainset --teacher my_pkg.qa:build --program-state qa.json --python-path src \\",
        "      --lm openai/gpt-4o-mini --label-field answer --metric my_pkg.metrics:f1 \\",
        "      --metric-threshold 0.8 --input qa.parquet --output trainset.jsonl",
        "",
        "Each written record holds the teacher's inputs and outputs, the label field holding the",
        "accepted answer; load it in Python with",
        "  inputs = json.load(open('trainset.jsonl.inputs.json'))['inputs']",
        "  examples = [dspy.Example(**r).with_inputs(*inputs) for r in records]",
        "The input keys are the record's keys minus the teacher's outputs; <output>.inputs.json",
        "lists them. Rejected records go to <output>.failures.jsonl as error_type Rejected",
        "(not counted against --max-failure-rate).",
        "Exit codes: 0 done, 1 the job failed, 2 bad usage, 3 more failures than --max-failure-rate."})
public final class TrainsetCommand extends JobCommand {
  @Option(names = "--teacher", required = true, paramLabel = "SIGNATURE|MODULE:FACTORY",
      description = "The teacher: a DSPy signature (run by dspy.Predict) or a program factory.")
  String teacher;

  @Option(names = "--label-field", required = true, paramLabel = "FIELD",
      description = "Input field holding the gold label; also the teacher's output it is compared with.")
  String labelField;

  @Option(names = "--metric", defaultValue = "exact", paramLabel = "exact|contains|MODULE:FUNCTION",
      description = "exact (normalised exact match), contains (normalised label in the answer), or a"
          + " DSPy metric function(example, pred, trace=None) (default: ${DEFAULT-VALUE}).")
  String metric;

  @Option(names = "--metric-threshold", paramLabel = "SCORE",
      description = "Accept a numeric metric result at least this (default: any truthy result).")
  Double threshold;

  @Mixin LmOptions lm;

  @Override
  LmOptions lmOptions() {
    return lm;
  }

  private List<String> inputs = List.of();
  private List<String> outputs = List.of();

  @Override
  boolean defaultId() {
    return false;
  }

  @Override
  Job job(JobSettings settings, InputProbe input) {
    if (!metric.equals("exact") && !metric.equals("contains") && !metric.matches("[\\w.]+:[\\w.]+")) {
      throw new UsageError("--metric must be exact, contains or module:function, was '" + metric + "'");
    }
    if (teacher.contains("->")) {
      try {
        Signature.parse(teacher);
      } catch (IllegalArgumentException e) {
        throw new UsageError("bad --teacher signature: " + e.getMessage(), e);
      }
    } else if (!teacher.matches("[\\w.]+:[\\w.]+")) {
      throw new UsageError("--teacher must be a signature ('question -> answer') or module:factory, was '"
          + teacher + "'");
    }
    require(input, List.of(labelField), "--label-field");
    Map<String, Object> args = new LinkedHashMap<>();
    args.put("teacher", teacher);
    args.put("metric", metric);
    args.put("label_field", labelField);
    if (lm.programState(settings.runner()) != null) {
      args.put("program_state", lm.programState(settings.runner()));
    }
    if (threshold != null) {
      args.put("threshold", threshold);
    }
    DSPexPredict labeler = settings.configure(lm.apply(DSPexPredict.ofProgram(TrainsetStep.PROGRAM)
        .withProgramArgs(args), settings.runner(), lmCache.dir()));
    Signature sig = ProgramFields.describe(settings, lm.withLocalPythonPath(labeler), "--teacher " + teacher);
    labeler = labeler.withOutputSchema(sig.outputSchema());
    List<RecordLayout.Column> columns = new ArrayList<>();
    List<String> in = new ArrayList<>();
    for (SignatureField f : sig.inputs()) {
      if (f.name().equals(TrainsetStep.GOLD)) {
        continue;
      }
      in.add(f.name());
      columns.add(new RecordLayout.Column(f.name(), f.type(), false));
    }
    require(input, in, "an input of the teacher");
    SignatureField gold = sig.inputs().stream().filter(f -> f.name().equals(TrainsetStep.GOLD)).findFirst()
        .orElseThrow(() -> new IllegalStateException("the labelling program has no " + TrainsetStep.GOLD + " input"));
    columns.add(new RecordLayout.Column(TrainsetStep.GOLD, labelField, gold.type(), true));
    List<String> out = passThrough(input, columns, in);
    out.addAll(in);
    List<String> teacherOutputs = sig.outputs().stream().map(SignatureField::name)
        .filter(n -> !n.equals(TrainsetStep.ACCEPTED) && !n.equals(TrainsetStep.SCORE))
        .collect(Collectors.toList());
    for (String o : teacherOutputs) {
      if (out.contains(o)) {
        throw new UsageError("output field '" + o + "' of the teacher is also an input or kept field");
      }
    }
    out.addAll(teacherOutputs);
    this.inputs = List.copyOf(in);
    this.outputs = List.copyOf(teacherOutputs);
    Map<String, String> notes = new LinkedHashMap<>();
    notes.put("inputs", String.join(", ", in) + "  (dspy.Example(**record).with_inputs("
        + in.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", ")) + "))");
    return new Job("trainset", input, RecordLayout.of(columns), new TrainsetStep(labeler, labelField, metric),
        out, Set.of(TrainsetStep.REJECTED), notes);
  }

  @Override
  void after(OutputTarget staged, Job job) throws Exception {
    InputsFile.write(staged.output(), inputs, outputs, labelField, teacher, metric);
  }
}
