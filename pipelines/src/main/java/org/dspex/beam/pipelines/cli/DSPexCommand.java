package org.dspex.beam.pipelines.cli;

import picocli.CommandLine.Command;

/** The {@code dspex} command: its subcommands and top-level help. */
@Command(name = "dspex", mixinStandardHelpOptions = true, version = "dspex 0.1.0",
    description = "Run DSPy programs and embedding models over JSONL, CSV or Parquet files as Beam pipelines, and compile DSPy programs over training sets.",
    subcommands = {EmbedCommand.class, PredictCommand.class, TrainsetCommand.class, OptimizeCommand.class},
    footerHeading = "%nExamples:%n",
    footer = {
        "  dspex embed --input testdata/corpus/kjv_pentateuch.jsonl \\",
        "      --output verses.parquet",
        "  dspex predict --signature 'question -> answer' --lm openai/gpt-4o-mini \\",
        "      --input qa.jsonl --output answers.jsonl",
        "  dspex trainset --teacher 'question -> answer' --lm openai/gpt-4o-mini \\",
        "      --label-field answer --metric exact --input qa.jsonl --output trainset.jsonl",
        "  dspex optimize --signature 'question -> answer' --trainset trainset.jsonl \\",
        "      --optimizer bootstrap --metric exact --lm openai/gpt-4o-mini --output program.json",
        "",
        "Run 'dspex COMMAND --help' for a command's options."})
public final class DSPexCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command: embed, predict, trainset or optimize");
  }
}
