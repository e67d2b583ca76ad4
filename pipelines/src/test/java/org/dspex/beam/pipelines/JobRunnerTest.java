package org.dspex.beam.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.dspex.beam.pipelines.io.InputFormat;
import org.dspex.beam.pipelines.io.InputProbe;
import org.dspex.beam.pipelines.io.Json;
import org.dspex.beam.pipelines.io.MemoryFileSystem;
import org.dspex.beam.pipelines.io.OutputTarget;
import org.dspex.beam.pipelines.io.RecordLayout;
import org.dspex.beam.pipelines.io.RecordReader;
import org.dspex.beam.pipelines.io.SourceRecord;
import org.dspex.beam.transforms.failures.ElementJson;
import org.dspex.beam.transforms.failures.Failures;
import org.dspex.beam.transforms.signature.FieldType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole jobs on the DirectRunner with a model step in Java (no Python): every input line ends in
 * exactly one of the output and the failures file, with its line and original record; one file or
 * shards; JSONL or Parquet; the exit code follows the failure rate.
 */
class JobRunnerTest {
  @TempDir Path dir;
  private Path input;

  @BeforeEach
  void writeInput() throws Exception {
    input = dir.resolve("in.jsonl");
    StringBuilder b = new StringBuilder();
    for (int i = 1; i <= 40; i++) {
      if (i == 5) {
        b.append("{not json\n");
      } else if (i == 6) {
        b.append("{\"id\": \"r6\", \"text\": 6}\n");
      } else if (i == 7) {
        b.append("{\"id\": \"r7\", \"text\": \"fail\"}\n");
      } else {
        b.append("{\"id\": \"r").append(i).append("\", \"text\": \"t").append(i).append("\", \"n\": ").append(i).append("}\n");
      }
    }
    Files.writeString(input, b.toString());
  }

  private static RunnerSettings directWithTwoThreads() {
    return RunnerSettings.of(RunnerSettings.DEFAULT_RUNNER, RunnerSettings.LOCAL_FLINK, 2, List.of());
  }

  private JobSettings settings(String output, int shards, double maxRate) {
    return new JobSettings(input.toString(), null, dir.resolve(output).toString(), false, shards,
        directWithTwoThreads(), 1, null, "auto", maxRate, false, InputProbe.DEFAULT_MAX_LINE_BYTES, null, null, null);
  }

  private JobSettings settings(RunnerSettings runner) {
    return new JobSettings(input.toString(), null, dir.resolve("out.jsonl").toString(), false, 0, runner, 1, null,
        "auto", 0.5, false, InputProbe.DEFAULT_MAX_LINE_BYTES, null, null, null);
  }

  private JobRunner.Outcome run(JobSettings s, ByteArrayOutputStream err) throws Exception {
    return run(s, err, JobRunnerTest::upper);
  }

  private JobRunner.Outcome run(JobSettings s, ByteArrayOutputStream err, Job.ModelStep model) throws Exception {
    InputProbe probe = InputProbe.of(s.input(), null);
    RecordLayout layout = RecordLayout.of(List.of(
        new RecordLayout.Column("text", FieldType.STR, true),
        new RecordLayout.Column("id", probe.infer("id"), false),
        new RecordLayout.Column("n", probe.infer("n"), false)));
    Job job = new Job("test", probe, layout, model, List.of("id", "n", "upper"), Set.of(), Map.of());
    JobRunner runner = new JobRunner(s, new PrintStream(err, true, StandardCharsets.UTF_8), false);
    return runner.run(job, runner.prepareOutput());
  }

  private static final TupleTag<Row> OK = new TupleTag<>() {};
  private static final TupleTag<Row> FAILED = new TupleTag<>() {};

  /** Adds {@code upper}; the text "fail" fails as a transform failure would. */
  static Job.ModelOutput upper(PCollection<Row> rows) {
    Schema out = Schema.builder().addFields(rows.getSchema().getFields()).addStringField("upper").build();
    PCollectionTuple t = rows.apply(ParDo.of(new DoFn<Row, Row>() {
      @ProcessElement
      public void process(@Element Row r, MultiOutputReceiver o) {
        if ("fail".equals(r.getString("text"))) {
          o.get(FAILED).output(Failures.row(ElementJson.json(ElementJson.toMap(r)), "Boom", "it broke", 2, "w1"));
        } else {
          o.get(OK).output(Row.withSchema(out).addValues(r.getValues()).addValue(r.getString("text").toUpperCase()).build());
        }
      }
    }).withOutputTags(OK, TupleTagList.of(FAILED)));
    return new Job.ModelOutput(t.get(OK).setRowSchema(out),
        Job.ModelOutput.failures(t.get(FAILED).setRowSchema(Failures.SCHEMA)));
  }

  /** Like {@link #upper}, but the record with text "t10" makes the job fail. */
  static Job.ModelOutput failing(PCollection<Row> rows) {
    PCollection<Row> checked = rows.apply("Fail", ParDo.of(new DoFn<Row, Row>() {
      @ProcessElement
      public void process(@Element Row r, OutputReceiver<Row> o) {
        if ("t10".equals(r.getString("text"))) {
          throw new IllegalStateException("the model broke on t10");
        }
        o.output(r);
      }
    })).setRowSchema(rows.getSchema());
    return upper(checked);
  }

  private static List<Map<String, Object>> jsonl(Path p) throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String l : Files.readAllLines(p)) {
      out.add(Json.parseObject(l));
    }
    return out;
  }

  @Test
  void givenBadLines_whenWritingOneJsonlFile_thenEveryLineIsInExactlyOneFile() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(JobRunner.Outcome.TOO_MANY_FAILURES, run(settings("out.jsonl", 0, 0.01), err));
    List<Map<String, Object>> out = jsonl(dir.resolve("out.jsonl"));
    assertEquals(37, out.size());
    assertEquals(List.of("id", "n", "upper"), new ArrayList<>(out.get(0).keySet()));
    Map<Object, Map<String, Object>> failures = new TreeMap<>();
    for (Map<String, Object> f : jsonl(dir.resolve("out.jsonl.failures.jsonl"))) {
      failures.put(f.get("line"), f);
    }
    assertEquals(Set.of(5, 6, 7), failures.keySet());
    assertEquals("{not json", failures.get(5).get("input"));
    assertEquals("InvalidJson", failures.get(5).get("error_type"));
    assertEquals(0, failures.get(5).get("attempts"));
    assertEquals("FieldTypeError", failures.get(6).get("error_type"));
    assertEquals(Map.of("id", "r6", "text", 6), failures.get(6).get("input"));
    assertEquals("Boom", failures.get(7).get("error_type"));
    assertEquals(2, failures.get(7).get("attempts"));
    assertEquals(Map.of("id", "r7", "text", "fail"), failures.get(7).get("input"));
    assertEquals(List.of("line", "input", "error_type", "message", "attempts", "file"),
        new ArrayList<>(failures.get(7).keySet()));
    String summary = err.toString(StandardCharsets.UTF_8);
    assertTrue(summary.contains("37 written"), summary);
    assertTrue(summary.contains("InvalidJson 1"), summary);
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of("in.jsonl", "out.jsonl", "out.jsonl.failures.jsonl"),
          s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
    }
  }

  @Test
  void givenAParquetOutput_thenExactlyThatFileHoldsTheColumns() throws Exception {
    assertEquals(JobRunner.Outcome.DONE, run(settings("out.parquet", 0, 0.5), new ByteArrayOutputStream()));
    List<SourceRecord> rows = new ArrayList<>();
    try (var ch = Files.newByteChannel(dir.resolve("out.parquet"));
        RecordReader r = RecordReader.open(InputFormat.PARQUET, ch, false)) {
      for (SourceRecord s = r.next(); s != null; s = r.next()) {
        rows.add(s);
      }
    }
    assertEquals(37, rows.size());
    Map<String, Object> r1 = rows.stream().filter(s -> "r1".equals(s.fields().get("id"))).findFirst().get().fields();
    assertEquals(List.of("id", "n", "upper"), new ArrayList<>(r1.keySet()));
    assertEquals(1L, r1.get("n"));
    assertEquals("T1", r1.get("upper"));
  }

  @Test
  void givenShards_thenAFolderOfThatManyPartFiles() throws Exception {
    assertEquals(JobRunner.Outcome.DONE, run(settings("out.jsonl", 3, 0.5), new ByteArrayOutputStream()));
    List<Path> parts;
    try (Stream<Path> s = Files.list(dir.resolve("out.jsonl"))) {
      parts = s.sorted(Comparator.naturalOrder()).collect(Collectors.toList());
    }
    assertEquals(3, parts.size());
    assertTrue(parts.get(0).getFileName().toString().matches("part-00000-of-00003\\.jsonl"), parts.toString());
    long lines = 0;
    for (Path p : parts) {
      lines += Files.readAllLines(p).size();
    }
    assertEquals(37, lines);
  }

  @Test
  void givenAFailuresFileAsInput_whenRerun_thenOnlyItsRecordsRunUnderTheirLines() throws Exception {
    run(settings("out.jsonl", 0, 1), new ByteArrayOutputStream());
    input = dir.resolve("out.jsonl.failures.jsonl");
    assertEquals(JobRunner.Outcome.TOO_MANY_FAILURES, run(settings("retry.jsonl", 0, 0.01), new ByteArrayOutputStream()));
    assertEquals(0, Files.readAllLines(dir.resolve("retry.jsonl")).size());
    Set<Object> lines = jsonl(dir.resolve("retry.jsonl.failures.jsonl")).stream().map(f -> f.get("line"))
        .collect(Collectors.toSet());
    assertEquals(Set.of(5, 6, 7), lines);
  }

  @Test
  void givenARunnerTheCommandHasNoCodeFor_thenTheJobRunsOnItWithTheOptionsAfterTheSeparator() throws Exception {
    RunnerSettings elsewhere = RunnerSettings.of(DelegatingTestRunner.class.getName(), RunnerSettings.LOCAL_FLINK,
        null, List.of("--jobName=elsewhere-job"));
    assertFalse(elsewhere.runsHere());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(JobRunner.Outcome.DONE, run(settings(elsewhere), err));
    assertEquals("elsewhere-job", DelegatingTestRunner.lastJobName);
    assertEquals(37, Files.readAllLines(dir.resolve("out.jsonl")).size());
    String summary = err.toString(StandardCharsets.UTF_8);
    assertTrue(summary.contains("40: 37 written"), summary);
  }

  private JobSettings objectStore(String output, boolean overwrite, int shards) {
    return settings(input.toString(), output, overwrite, shards);
  }

  private static List<String> lines(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8).lines().collect(Collectors.toList());
  }

  @Test
  void givenAnOutputOnAnObjectStore_thenTheJobWritesExactlyItsObjectsThroughBeamsFileSystems() throws Exception {
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
    MemoryFileSystem.clear();
    String out = "mem://bucket/run/out.jsonl";
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(JobRunner.Outcome.DONE, run(objectStore(out, false, 0), err));
    Map<String, byte[]> objects = MemoryFileSystem.objects();
    assertEquals(Set.of(out, out + ".failures.jsonl"), objects.keySet(), "no temporary object is left");
    assertEquals(37, lines(objects.get(out)).size());
    assertEquals(3, lines(objects.get(out + ".failures.jsonl")).size());
    String summary = err.toString(StandardCharsets.UTF_8);
    assertTrue(summary.contains("37 written to " + out + ", 3 failed"), summary);
    assertTrue(summary.contains("failures   " + out + ".failures.jsonl: "), summary);

    UsageError exists = assertThrows(UsageError.class, () -> run(objectStore(out, false, 2), err));
    assertEquals("output '" + out + "' exists; give --overwrite to replace it", exists.getMessage());
    assertEquals(JobRunner.Outcome.DONE, run(objectStore(out, true, 2), err));
    assertEquals(Set.of(out + "/part-00000-of-00002.jsonl", out + "/part-00001-of-00002.jsonl",
        out + ".failures.jsonl"), MemoryFileSystem.objects().keySet());

    input = dir.resolve("bad.jsonl");
    Files.writeString(input, "{\"id\": \"x\", \"text\": 1}\n{\"id\": \"y\", \"text\": \"fail\"}\n");
    assertEquals(JobRunner.Outcome.TOO_MANY_FAILURES, run(objectStore("mem://bucket/none.parquet", false, 0), err));
    byte[] parquet = MemoryFileSystem.objects().get("mem://bucket/none.parquet");
    assertEquals("PAR1", new String(parquet, 0, 4, StandardCharsets.US_ASCII), "a Parquet file with no rows");
    assertEquals(2, lines(MemoryFileSystem.objects().get("mem://bucket/none.parquet.failures.jsonl")).size());
  }

  private JobSettings settings(String inputPath, String output, boolean overwrite, int shards) {
    return new JobSettings(inputPath, null, output, overwrite, shards, directWithTwoThreads(), 1, null, "auto", 0.5,
        false, InputProbe.DEFAULT_MAX_LINE_BYTES, null, null, null);
  }

  private List<String> listing() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void givenTheInputAsOutputWithOverwrite_howeverWritten_thenRefusedBeforeAnythingIsTouched() throws Exception {
    byte[] before = Files.readAllBytes(input);
    Path link = Files.createSymbolicLink(dir.resolve("link.jsonl"), input);
    Files.createDirectories(dir.resolve("sub"));
    for (String out : List.of(input.toString(), dir + "/sub/../in.jsonl", link.toString())) {
      UsageError e = assertThrows(UsageError.class,
          () -> run(settings(input.toString(), out, true, 0), new ByteArrayOutputStream()));
      assertEquals("--output '" + (out.equals(link.toString()) ? link : input) + "' is the input file '" + input
          + "'; write the output elsewhere", e.getMessage());
    }
    assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(input)));
    assertEquals(List.of("in.jsonl", "link.jsonl", "sub"), listing(), "no temporary folder");
  }

  @Test
  void givenAFailuresFileRerunIntoItsOwnOutput_thenRefusedAndBothFilesKept() throws Exception {
    run(settings("out.jsonl", 0, 1), new ByteArrayOutputStream());
    Path out = dir.resolve("out.jsonl");
    Path failures = dir.resolve("out.jsonl.failures.jsonl");
    String output = Files.readString(out);
    String failed = Files.readString(failures);
    UsageError e = assertThrows(UsageError.class,
        () -> run(settings(failures.toString(), out.toString(), true, 0), new ByteArrayOutputStream()));
    assertTrue(e.getMessage().startsWith("the failures file of --output '" + out + "' would be the input"),
        e.getMessage());
    assertEquals(output, Files.readString(out));
    assertEquals(failed, Files.readString(failures));
  }

  @Test
  void givenAJobThatFails_whenOverwriting_thenThePreviousOutputStaysAndNoTemporaryFolder() throws Exception {
    Files.writeString(dir.resolve("out.jsonl"), "precious\n");
    Files.writeString(dir.resolve("out.jsonl.failures.jsonl"), "old failures\n");
    Exception e = assertThrows(Exception.class, () -> run(settings(input.toString(),
        dir.resolve("out.jsonl").toString(), true, 0), new ByteArrayOutputStream(), JobRunnerTest::failing));
    assertTrue(String.valueOf(org.dspex.beam.pipelines.cli.ExitCodes.describe(e)).contains("the model broke on t10"),
        e::toString);
    assertEquals("precious\n", Files.readString(dir.resolve("out.jsonl")));
    assertEquals("old failures\n", Files.readString(dir.resolve("out.jsonl.failures.jsonl")));
    assertEquals(List.of("in.jsonl", "out.jsonl", "out.jsonl.failures.jsonl"), listing());
  }

  /** Whether the slow element's bundle had started and finished ({@link #failingBesideASlowBundle}). */
  private static final CountDownLatch SLOW_STARTED = new CountDownLatch(1);
  private static final AtomicBoolean SLOW_FINISHED = new AtomicBoolean();

  /**
   * Like {@link #failing}, but "t10" fails only once "t20" is in flight in another bundle, which
   * then takes another 1.5 s: the job fails while a runner thread still works for it.
   */
  static Job.ModelOutput failingBesideASlowBundle(PCollection<Row> rows) {
    PCollection<Row> checked = rows.apply("FailBesideSlow", ParDo.of(new DoFn<Row, Row>() {
      @ProcessElement
      public void process(@Element Row r, OutputReceiver<Row> o) throws InterruptedException {
        if ("t10".equals(r.getString("text"))) {
          SLOW_STARTED.await(20, TimeUnit.SECONDS);
          throw new IllegalStateException("the model broke on t10");
        }
        if ("t20".equals(r.getString("text"))) {
          SLOW_STARTED.countDown();
          Thread.sleep(1500);
          SLOW_FINISHED.set(true);
        }
        o.output(r);
      }
    })).setRowSchema(rows.getSchema());
    return upper(checked);
  }

  @Test
  void givenAJobThatFailsWhileAnotherBundleIsInFlight_thenRunReturnsAfterItAndNoTemporaryFolderReappears()
      throws Exception {
    // One record per block: each is a bundle of its own, so "t10" and "t20" run on the two threads.
    JobSettings oneRecordBlocks = new JobSettings(input.toString(), null, dir.resolve("out.jsonl").toString(), false,
        0, directWithTwoThreads(), 1, null, "auto", 0.5, false, InputProbe.DEFAULT_MAX_LINE_BYTES, null, null, 1);
    assertThrows(Exception.class, () -> run(oneRecordBlocks, new ByteArrayOutputStream(),
        JobRunnerTest::failingBesideASlowBundle));
    assertEquals(0, SLOW_STARTED.getCount(), "the slow element's bundle ran beside the failing one");
    assertTrue(SLOW_FINISHED.get(), "the job's run ended only after the bundle in flight");
    assertEquals(List.of("in.jsonl"), listing());
  }

  @Test
  void givenAJobThatSucceeds_whenOverwritingShardsWithOneFile_thenReplacedAndAStaleTemporaryFolderGoes()
      throws Exception {
    assertEquals(JobRunner.Outcome.DONE, run(settings("out.jsonl", 2, 0.5), new ByteArrayOutputStream()));
    assertTrue(Files.isDirectory(dir.resolve("out.jsonl")));
    Files.writeString(dir.resolve("out.jsonl.inputs.json"), "{}\n");
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Path stale = Files.createDirectories(dir.resolve(".dspex-tmp-left-by-kill-9/output"));
    Files.writeString(stale.resolveSibling("owner.json"), Json.write(Map.of("output", dir.resolve("out.jsonl")
        .toString(), "host", hostName(), "pid", gone.pid(), "started", "")) + "\n");
    assertEquals(JobRunner.Outcome.DONE, run(settings(input.toString(), dir.resolve("out.jsonl").toString(), true,
        0), new ByteArrayOutputStream()));
    assertEquals(37, Files.readAllLines(dir.resolve("out.jsonl")).size());
    assertEquals(List.of("in.jsonl", "out.jsonl", "out.jsonl.failures.jsonl"), listing(),
        "the stale folder and the old input keys are gone");
  }

  private static String hostName() throws Exception {
    return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
  }

  @Test
  void givenALineWithAStringLongerThanTheJsonParserTakes_thenItFailsAsInvalidJsonAndTheSummaryCountsIt()
      throws Exception {
    // 21 million characters: over Jackson's 20 million limit for one string, under --max-line-bytes.
    StringBuilder b = new StringBuilder();
    b.append("{\"id\": \"r1\", \"text\": \"a\", \"n\": 1}\n");
    b.append("{\"id\": \"big\", \"text\": \"").append("x".repeat(21_000_000)).append("\", \"n\": 2}\n");
    b.append("{\"id\": \"r3\", \"text\": \"c\", \"n\": 3}\n");
    Files.writeString(input, b.toString());
    b.setLength(0);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(JobRunner.Outcome.TOO_MANY_FAILURES, run(settings("out.jsonl", 0, 0.01), err));
    String summary = err.toString(StandardCharsets.UTF_8);
    assertTrue(summary.contains("3: 2 written to " + dir.resolve("out.jsonl") + ", 1 failed"), summary);
    assertTrue(summary.contains(".failures.jsonl: InvalidJson 1"), summary);
    assertTrue(summary.contains("line 2: InvalidJson: line 2 is not valid JSON"), summary);
    assertEquals(1, Files.readAllLines(dir.resolve("out.jsonl.failures.jsonl")).size());
  }

  @Test
  void givenAnOutputThatCannotBeWritten_thenUsageErrorsNamingThePathBeforeTheJob() throws Exception {
    UsageError sys = assertThrows(UsageError.class, () -> run(settings("/sys/dspex-out.jsonl", 0, 0.5),
        new ByteArrayOutputStream(), JobRunnerTest::failing));
    assertEquals("cannot write in the output folder '/sys': Operation not permitted", sys.getMessage());
    Files.writeString(dir.resolve("a-file"), "");
    UsageError file = assertThrows(UsageError.class, () -> run(settings("a-file/out.jsonl", 0, 0.5),
        new ByteArrayOutputStream(), JobRunnerTest::failing));
    assertEquals("cannot create the output folder '" + dir.resolve("a-file") + "': '" + dir.resolve("a-file")
        + "' exists and is not a folder", file.getMessage());
    Path out = Files.writeString(dir.resolve("out.jsonl"), "precious\n");
    Files.setPosixFilePermissions(out, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
    UsageError readOnly = assertThrows(UsageError.class, () -> run(settings(input.toString(), out.toString(), true,
        0), new ByteArrayOutputStream(), JobRunnerTest::failing));
    assertEquals("output '" + out + "' is read-only; make it writable to replace it, or choose another --output",
        readOnly.getMessage());
    assertEquals("precious\n", Files.readString(out));
    assertEquals(List.of("a-file", "in.jsonl", "out.jsonl"), listing());
  }

  @Test
  void givenParquetShards_thenThatManyPartsHoldingEveryRowOnce() throws Exception {
    assertEquals(JobRunner.Outcome.DONE, run(settings("out.parquet", 3, 0.5), new ByteArrayOutputStream()));
    List<Object> ids = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir.resolve("out.parquet"))) {
      for (Path part : s.sorted().collect(Collectors.toList())) {
        assertTrue(part.getFileName().toString().matches("part-0000[0-2]-of-00003\\.parquet"), part::toString);
        try (var ch = Files.newByteChannel(part); RecordReader r = RecordReader.open(InputFormat.PARQUET, ch, false)) {
          for (SourceRecord rec = r.next(); rec != null; rec = r.next()) {
            ids.add(rec.fields().get("id"));
          }
        }
      }
    }
    assertEquals(37, ids.size());
    assertEquals(37, ids.stream().distinct().count());
  }
}
