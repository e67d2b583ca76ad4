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
import org.dspex.beam.transforms.DSPexEmbed;
import org.dspex.beam.transforms.signature.FieldType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dspex embed}: one embedding per record, with {@link DSPexEmbed}. */
@Command(name = "embed", mixinStandardHelpOptions = true, showEndOfOptionsDelimiterInUsageHelp = true,
    resourceBundle = CommonOptions.MESSAGES,
    description = "Embed the text field of every record with a sentence-embedding model.",
    footerHeading = "%nExamples:%n",
    footer = {
        "  dspex embed --input testdata/corpus/kjv_pentateuch.jsonl \\",
        "      --output verses.parquet",
        "  dspex embed --input 'docs/*.csv' --text-field body --id-field doc_id \\",
        "      --keep-fields title,url --normalize --workers 2 --output docs.jsonl",
        "  dspex embed --input corpus.jsonl --output vectors.parquet --model-precision int8",
        "  dspex embed --input corpus.parquet --output vectors.parquet \\",
        "      --runner FlinkRunner --parallelism 2 -- --jobName=nightly-embed",
        "  dspex embed --input gs://B/corpus.jsonl --output gs://B/vectors.parquet \\",
        "      --runner DataflowRunner -- --project=P --region=R --tempLocation=gs://B/tmp \\",
        "      --sdkContainerImage=R-docker.pkg.dev/P/REPO/dspex-worker:0.1.0",
        "  # re-run just the records that failed:",
        "  dspex embed --input verses.parquet.failures.jsonl --output retry.parquet",
        "",
        "Output columns: the id field, the kept fields, then 'embedding' (list<float>).",
        "Exit codes: 0 done, 1 the job failed, 2 bad usage, 3 more failures than --max-failure-rate."})
public final class EmbedCommand extends JobCommand {
  /** The default model. */
  public static final String DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2";

  @Option(names = "--text-field", paramLabel = "FIELD", defaultValue = DSPexEmbed.DEFAULT_TEXT_FIELD,
      description = "Field holding the text (default: ${DEFAULT-VALUE}).")
  String textField;

  @Option(names = "--model", paramLabel = "NAME", defaultValue = DEFAULT_MODEL,
      description = "Embedding model (default: ${DEFAULT-VALUE}).")
  String model;

  @Option(names = "--normalize", description = "Unit-length vectors.")
  boolean normalize;

  @Option(names = "--model-precision", paramLabel = "float32|int8", defaultValue = DSPexEmbed.DEFAULT_PRECISION,
      description = "The model's precision: float32 (default: the vectors sentence-transformers gives), or int8 "
          + "(faster; vectors at a cosine of about 0.99 to the float32 ones).")
  String precision;

  @Override
  Job job(JobSettings settings, InputProbe input) {
    require(input, List.of(textField), "--text-field");
    List<RecordLayout.Column> columns = new ArrayList<>();
    columns.add(new RecordLayout.Column(textField, FieldType.STR, true));
    List<String> out = passThrough(input, columns, List.of(textField));
    out.add(DSPexEmbed.EMBEDDING_FIELD);
    if (!DSPexEmbed.PRECISIONS.contains(precision)) {
      throw new UsageError("--model-precision must be one of " + String.join(", ", DSPexEmbed.PRECISIONS)
          + "; was '" + precision + "'");
    }
    DSPexEmbed embed;
    try {
      embed = settings.configure(DSPexEmbed.of(model).withTextField(textField).withPrecision(precision));
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage(), e);
    }
    DSPexEmbed t = normalize ? embed.withNormalize(true) : embed;
    return new Job("embed", input, RecordLayout.of(columns),
        rows -> Job.ModelOutput.of(rows.apply("Embed", t)), out, Set.of(), Map.of());
  }
}
