package org.dspex.beam.pipelines.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad usage exits 2 with one line on stderr and no stack trace; help exits 0 with examples. */
class ExitCodesTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private PrintStream oldErr;
  private PrintStream oldOut;
  private Path input;

  @BeforeEach
  void capture() throws Exception {
    oldErr = System.err;
    oldOut = System.out;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    input = dir.resolve("in.jsonl");
    Files.writeString(input, "{\"id\": \"a\", \"text\": \"hello\", \"question\": \"q?\", \"answer\": \"x\"}\n");
  }

  @AfterEach
  void restore() {
    System.setErr(oldErr);
    System.setOut(oldOut);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private void assertUsageError(String expected, String... args) {
    assertEquals(ExitCodes.USAGE, DSPexCli.run(args), err());
    String e = err();
    assertTrue(e.startsWith("dspex: error: "), e);
    assertTrue(e.contains(expected), e);
    assertFalse(e.contains("\tat "), "no stack trace: " + e);
    assertEquals("", out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void givenAMissingInput_thenExit2() {
    assertUsageError("does not exist", "embed", "--input", dir.resolve("nope.jsonl").toString(),
        "--output", dir.resolve("o.jsonl").toString());
  }

  @Test
  void givenAnUnknownField_thenExit2NamingTheInputsFields() {
    assertUsageError("unknown field 'body' (--text-field): the input's fields are [id, text, question, answer]",
        "embed", "--input", input.toString(), "--output", dir.resolve("o.jsonl").toString(), "--text-field", "body");
  }

  @Test
  void givenAnExistingOutputWithoutOverwrite_thenExit2() throws Exception {
    Files.writeString(dir.resolve("o.jsonl"), "");
    assertUsageError("exists; give --overwrite", "embed", "--input", input.toString(),
        "--output", dir.resolve("o.jsonl").toString());
  }

  @Test
  void givenABadSignature_thenExit2() {
    assertUsageError("bad --signature", "predict", "--signature", "question answer", "--lm", "openai/x",
        "--input", input.toString(), "--output", dir.resolve("o.jsonl").toString());
  }

  @Test
  void givenASignatureInputTheFileLacks_thenExit2() {
    assertUsageError("unknown field 'context'", "predict", "--signature", "question, context -> response",
        "--lm", "openai/x", "--input", input.toString(), "--output", dir.resolve("o.jsonl").toString());
  }

  @Test
  void givenBadOptionValues_thenExit2() {
    assertUsageError("--runner must be", "embed", "--input", input.toString(), "--output", "o.jsonl", "--runner", "Spark");
    err.reset();
    assertUsageError("--max-failure-rate", "embed", "--input", input.toString(), "--output", "o.jsonl",
        "--max-failure-rate", "2");
    err.reset();
    assertUsageError("Unknown option", "embed", "--input", input.toString(), "--output", "o.jsonl", "--bogus");
    err.reset();
    assertUsageError("--metric must be", "trainset", "--teacher", "question -> answer", "--lm", "openai/x",
        "--label-field", "answer", "--metric", "fuzzy", "--input", input.toString(), "--output", "o.jsonl");
  }

  @Test
  void givenAProgramThatDoesNotLoad_thenExit2WithThePythonError() {
    // A worker starts here, so lines of its libraries may precede the error when another test
    // made the JVM's first logger (the command sets the log level before that otherwise).
    assertEquals(ExitCodes.USAGE, DSPexCli.run("predict", "--program", "dspex_no_such_module:build",
        "--lm", "openai/x", "--input", input.toString(), "--output", dir.resolve("o.jsonl").toString()), err());
    String e = err().lines().filter(l -> l.startsWith("dspex: error: ")).findFirst().orElse(err());
    assertTrue(e.startsWith("dspex: error: cannot load --program dspex_no_such_module:build: "), e);
    assertTrue(e.contains("No module named 'dspex_no_such_module'"), e);
    assertFalse(err().contains("\tat "), "no stack trace: " + err());
  }

  @Test
  void givenAnOutputSchemeNoFileSystemHandles_thenExit2NamingIt() {
    assertUsageError("cannot write --output 's3://bucket/o.jsonl': No filesystem found for scheme s3 (no Beam file"
        + " system for it is on the classpath)", "embed", "--input", input.toString(), "--output", "s3://bucket/o.jsonl");
  }

  @Test
  void givenUnparseableParquet_thenExit2() throws Exception {
    Path bad = dir.resolve("bad.parquet");
    Files.writeString(bad, "nope");
    assertUsageError("cannot read", "embed", "--input", bad.toString(), "--output", dir.resolve("o.jsonl").toString());
  }

  @Test
  void givenAJobFailureWrappedByTheRunner_thenTheMessageIsTheCausesOnOneLine() {
    Exception e = new org.apache.beam.sdk.Pipeline.PipelineExecutionException(
        org.apache.beam.sdk.util.UserCodeException.wrap(new IllegalStateException("no worker:\n  python missing")));
    assertEquals("no worker: python missing", ExitCodes.describe(new RuntimeException(e)));
  }

  @Test
  void givenAJobThatFailedOnAFlinkClusterAfterItsRestarts_thenTheMessageIsTheRootCause() {
    // The chain a session cluster's job client hands back (measured: an input no TaskManager found).
    Exception root = new java.io.FileNotFoundException("No files matched spec: small.jsonl");
    Exception chained = new org.apache.flink.runtime.operators.chaining.ExceptionInChainedStubException(
        "FlatMap (FlatMap at Read/Match)", org.apache.beam.sdk.util.UserCodeException.wrap(root));
    Exception job = new org.apache.flink.client.program.ProgramInvocationException("Job failed (JobID: d19e)",
        new org.apache.flink.runtime.client.JobExecutionException(new org.apache.flink.api.common.JobID(),
            "Job execution failed.", new org.apache.flink.runtime.JobException(
                "Recovery is suppressed by FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=0)",
                org.apache.beam.sdk.util.UserCodeException.wrap(chained))));
    assertEquals("No files matched spec: small.jsonl",
        ExitCodes.describe(new RuntimeException("Pipeline execution failed", job)));
  }

  /** A command whose job runs out of heap, as the DirectRunner reports it. */
  @picocli.CommandLine.Command(name = "oom")
  static final class OutOfHeapJob implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
      throw new org.apache.beam.sdk.Pipeline.PipelineExecutionException(
          new OutOfMemoryError("Java heap space"));
    }
  }

  @Test
  void givenAJobOutOfHeap_thenExit1WithOneLineSayingHowToGiveItMemory() {
    java.io.StringWriter text = new java.io.StringWriter();
    picocli.CommandLine cli = ExitCodes.install(new picocli.CommandLine(new OutOfHeapJob()))
        .setErr(new java.io.PrintWriter(text));
    assertEquals(ExitCodes.JOB_FAILED, cli.execute());
    String e = text.toString();
    assertTrue(e.startsWith("dspex: error: the job failed: the JVM ran out of memory (heap limit "), e);
    assertTrue(e.contains("DSPEX_JAVA_OPTS=-Xmx8g") && e.contains("--runner FlinkRunner"), e);
    assertEquals(1, e.strip().lines().count(), "one line, no stack trace: " + e);
  }

  @Test
  void givenHelp_thenEverySubcommandShowsExamples() {
    for (String c : new String[] {"embed", "predict", "trainset"}) {
      out.reset();
      assertEquals(ExitCodes.OK, DSPexCli.run(c, "--help"));
      String help = out.toString(StandardCharsets.UTF_8);
      assertTrue(help.contains("Examples:") && help.contains("dspex " + c + " --"), help);
    }
  }
}
