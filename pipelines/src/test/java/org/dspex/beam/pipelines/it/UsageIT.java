package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a user sees when the command cannot run: {@code --help} with examples for every
 * subcommand, exit code 2 with one {@code dspex: error:} line and no stack trace for bad usage
 * (outputs that would replace the input, unwritable or read-only outputs found before any model
 * work), exit code 1 when the job itself fails. None of these loads a model.
 */
class UsageIT {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"embed", "predict", "trainset"})
  void givenSubcommandHelp_thenOptionsAndRunnableExamples(String command) throws Exception {
    Dspex.Run r = Dspex.run(dir, command, "--help").expectExit(0);
    assertTrue(r.stdout().contains("Examples:"), r::toString);
    assertTrue(r.stdout().contains("  dspex " + command + " --"), r::toString);
    for (String option : List.of("--input", "--output", "--runner", "--max-failure-rate", "--overwrite")) {
      assertTrue(r.stdout().contains(option), () -> option + " missing from " + r);
    }
  }

  @Test
  void givenOptimizeHelp_thenItsOptionsAndRunnableExamples() throws Exception {
    Dspex.Run r = Dspex.run(dir, "optimize", "--help").expectExit(0);
    assertTrue(r.stdout().contains("  dspex optimize --"), r::toString);
    assertTrue(r.stdout().contains("  dspex predict --signature 'question -> answer' --program-state program.json"),
        r::toString);
    for (String option : List.of("--trainset", "--devset", "--optimizer", "--option", "--metric", "--teacher-lm",
        "--compile-timeout", "--output", "--runner", "--max-failure-rate", "--overwrite")) {
      assertTrue(r.stdout().contains(option), () -> option + " missing from " + r);
    }
  }

  @Test
  void givenTopLevelHelp_thenTheFourCommands() throws Exception {
    Dspex.Run r = Dspex.run(dir, "--help").expectExit(0);
    for (String command : List.of("embed", "predict", "trainset", "optimize")) {
      assertTrue(r.stdout().contains("  " + command + " "), () -> command + " missing from " + r);
    }
  }

  /** Exit 2: the one error line says what to fix; no stack trace. */
  private Dspex.Run usage(String expected, String... args) throws Exception {
    Dspex.Run r = Dspex.run(dir, args).expectExit(2).expectNoStackTrace();
    assertEquals(1, r.errorLines().size(), r::toString);
    assertTrue(r.errorLines().get(0).contains(expected), () -> "expected '" + expected + "' in " + r);
    return r;
  }

  @Test
  void givenAMissingInputFile_thenExit2() throws Exception {
    usage("input 'nowhere.jsonl' does not exist", "embed", "--input", "nowhere.jsonl", "--output", "out.parquet");
  }

  @Test
  void givenAnEmptyOrUtf16Input_thenExit2SayingSoRatherThanAnUnknownField() throws Exception {
    java.nio.file.Files.write(dir.resolve("empty.jsonl"), new byte[0]);
    usage("input '" + dir.resolve("empty.jsonl") + "' has no records: it is empty or holds only blank lines",
        "embed", "--input", "empty.jsonl", "--output", "out.parquet");
    java.nio.file.Files.write(dir.resolve("wide.jsonl"),
        "{\"text\": \"hi\"}\n".getBytes(java.nio.charset.StandardCharsets.UTF_16));
    usage("is UTF-16 or UTF-32 text (it starts with the byte-order mark FE FF); dspex reads UTF-8",
        "embed", "--input", "wide.jsonl", "--output", "out.parquet");
  }

  @Test
  void givenANonPositiveLineLimit_thenExit2() throws Exception {
    Records.head(Records.corpus(), 3, dir.resolve("v.jsonl"));
    usage("--max-line-bytes must be positive, was 0",
        "embed", "--input", "v.jsonl", "--output", "out.parquet", "--max-line-bytes", "0");
  }

  @Test
  void givenAnUnknownField_thenExit2NamingTheInputsFields() throws Exception {
    Records.head(Records.corpus(), 3, dir.resolve("v.jsonl"));
    usage("unknown field 'body' (--text-field): the input's fields are [id, text]",
        "embed", "--input", "v.jsonl", "--output", "out.parquet", "--text-field", "body");
  }

  @Test
  void givenAnApiKeyVariableThatIsNotSet_thenExit2BeforeAnyRecordIsTried() throws Exception {
    usage("--api-key-env DSPEX_TEST_UNSET_KEY: that environment variable is not set", "predict",
        "--signature", "question -> answer", "--lm", "openai/x", "--api-key-env", "DSPEX_TEST_UNSET_KEY",
        "--input", Records.qa().toString(), "--output", "out.jsonl");
  }

  @Test
  void givenABadSignature_thenExit2() throws Exception {
    usage("bad --signature", "predict", "--signature", "question answer", "--lm", "openai/x",
        "--input", Records.qa().toString(), "--output", "out.jsonl");
  }

  @Test
  void givenAnExistingOutputWithoutOverwrite_thenExit2AndTheFileIsKept() throws Exception {
    Records.head(Records.corpus(), 3, dir.resolve("v.jsonl"));
    Files.writeString(dir.resolve("out.parquet"), "precious");
    usage("give --overwrite to replace it", "embed", "--input", "v.jsonl", "--output", "out.parquet");
    assertEquals("precious", Files.readString(dir.resolve("out.parquet")));
  }

  @Test
  void givenAnOutputThatIsTheInputOrItsFailuresFile_thenExit2AndNothingIsTouched() throws Exception {
    Records.head(Records.corpus(), 3, dir.resolve("same.jsonl"));
    byte[] input = Files.readAllBytes(dir.resolve("same.jsonl"));
    usage("--output '" + dir.resolve("same.jsonl") + "' is the input file '" + dir.resolve("same.jsonl") + "'",
        "embed", "--input", "same.jsonl", "--output", "same.jsonl", "--overwrite");
    Files.createDirectories(dir.resolve("sub"));
    usage("is the input file", "embed", "--input", "same.jsonl", "--output", "sub/../same.jsonl", "--overwrite");
    Files.createSymbolicLink(dir.resolve("link.jsonl"), dir.resolve("same.jsonl"));
    usage("is the input file", "embed", "--input", "same.jsonl", "--output", "link.jsonl", "--overwrite");
    assertTrue(java.util.Arrays.equals(input, Files.readAllBytes(dir.resolve("same.jsonl"))));

    // A failures file re-run into the output it belongs to would replace it while it is read.
    Files.writeString(dir.resolve("out.jsonl"), "{\"id\": \"kept\"}\n");
    String failures = "{\"line\":2,\"input\":{\"id\":\"x\",\"text\":\"t\"},\"error_type\":\"Boom\","
        + "\"message\":\"m\",\"attempts\":1,\"file\":\"" + dir.resolve("in.jsonl") + "\"}\n";
    Files.writeString(dir.resolve("out.jsonl.failures.jsonl"), failures);
    usage("the failures file of --output '" + dir.resolve("out.jsonl") + "' would be the input", "embed",
        "--input", "out.jsonl.failures.jsonl", "--output", "out.jsonl", "--overwrite");
    assertEquals("{\"id\": \"kept\"}\n", Files.readString(dir.resolve("out.jsonl")));
    assertEquals(failures, Files.readString(dir.resolve("out.jsonl.failures.jsonl")));
    assertTrue(Files.list(dir).noneMatch(p -> p.getFileName().toString().startsWith(".dspex-tmp-")));
  }

  /** A model path that fails the job (exit 1) if any model work started. */
  private String noModel() {
    return dir.resolve("no-such-model").toString();
  }

  @Test
  void givenAnOutputFolderNoOneMayWriteIn_thenExit2BeforeAnyModelWork() throws Exception {
    Records.head(Records.corpus(), 3, dir.resolve("v.jsonl"));
    usage("cannot write in the output folder '/sys': Operation not permitted",
        "embed", "--input", "v.jsonl", "--output", "/sys/dspex-it-out.jsonl", "--model", noModel());
    Files.writeString(dir.resolve("a-file"), "");
    usage("cannot create the output folder '" + dir.resolve("a-file") + "': '" + dir.resolve("a-file")
        + "' exists and is not a folder",
        "embed", "--input", "v.jsonl", "--output", "a-file/out.jsonl", "--model", noModel());
  }

  @Test
  void givenAReadOnlyOutputWithOverwrite_thenExit2AndTheFileIsKept() throws Exception {
    Records.head(Records.corpus(), 3, dir.resolve("v.jsonl"));
    Files.writeString(dir.resolve("out.jsonl"), "precious");
    Files.setPosixFilePermissions(dir.resolve("out.jsonl"),
        java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
    usage("output '" + dir.resolve("out.jsonl") + "' is read-only; make it writable to replace it",
        "embed", "--input", "v.jsonl", "--output", "out.jsonl", "--overwrite", "--model", noModel());
    assertEquals("precious", Files.readString(dir.resolve("out.jsonl")));
  }

  @Test
  void givenAnUnknownOption_thenExit2() throws Exception {
    usage("Unknown option: '--colour'", "embed", "--input", "v.jsonl", "--output", "o.jsonl", "--colour");
  }

  @Test
  void givenNoWorkerCanStart_thenTheJobFailsWithExit1AndOneLine() throws Exception {
    Records.head(Records.corpus(), 3, dir.resolve("v.jsonl"));
    Dspex.Run r = Dspex.run(dir, Map.of("DSPEX_JAVA_OPTS", "-Ddspex.python=" + dir.resolve("no-python")),
        "embed", "--input", "v.jsonl", "--output", "out.jsonl").expectExit(1).expectNoStackTrace();
    assertEquals(1, r.errorLines().size(), r::toString);
    assertTrue(r.errorLines().get(0).startsWith("dspex: error: the job failed:"), r::toString);
    assertTrue(r.errorLines().get(0).contains("no-python"), r::toString);
  }
}
