package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./dspex embed} end to end about its files, with a model that costs nothing ({@link
 * TinyModel}, the real worker and output shape): 20,000 embeddings written to one Parquet file in
 * a 256 MiB heap and read back by pyarrow, pandas and DuckDB; a run stopped by SIGTERM or kill -9
 * leaves the previous output as it was, the next run removes what kill -9 left; a failure whose
 * line the JSON parser cannot re-read is counted in the summary and the exit code.
 */
class OutputFilesIT {
  private static final int RECORDS = 20_000;
  private static final Pattern PROGRESS = Pattern.compile("dspex: ([0-9,]+)/20,000 records");

  @TempDir Path dir;

  private List<String> temporaryFolders() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".dspex-tmp-"))
          .collect(Collectors.toList());
    }
  }

  private long parquetRows(Path file) throws Exception {
    Dspex.Run r = Dspex.python(dir, "import sys, pyarrow.parquet as pq; print(pq.ParquetFile(sys.argv[1]).metadata.num_rows)",
        file.toString()).expectExit(0);
    return Long.parseLong(r.stdout().strip());
  }

  @Test
  void given20000EmbeddingsInA256MiBHeap_thenTheOneParquetFileStreamsOutAndEveryReaderReadsIt() throws Exception {
    Path model = TinyModel.create(dir.resolve("tiny-model"));
    Records.synthetic(RECORDS, dir.resolve("in.jsonl"));
    Dspex.Run r = Dspex.run(dir, Map.of("DSPEX_JAVA_OPTS", "-Xmx256m"), "embed", "--input", "in.jsonl",
        "--output", "out.parquet", "--model", model.toString()).expectExit(0).expectNoStackTrace();
    assertTrue(r.stderr().contains("20,000: 20,000 written to " + dir.resolve("out.parquet") + ", 0 failed"),
        r::toString);
    Map<String, Object> readers = Records.readWithPythonTools(dir.resolve("out.parquet"), "embedding");
    for (String reader : List.of("pyarrow", "pandas", "duckdb")) {
      @SuppressWarnings("unchecked")
      Map<String, Object> seen = (Map<String, Object>) readers.get(reader);
      assertEquals(List.of("id", "embedding"), seen.get("columns"), reader);
      assertEquals(RECORDS, ((Number) seen.get("rows")).intValue(), reader);
      assertEquals(RECORDS, ((List<?>) seen.get("ids")).stream().distinct().count(), reader);
      assertEquals(List.of(384), seen.get("lengths"), reader);
    }
    assertEquals(0, Files.size(dir.resolve("out.parquet.failures.jsonl")));
    assertEquals(List.of(), temporaryFolders());
  }

  /** Starts the job, waits until it has finished some records, and stops it with the signal. */
  private void stopMidJob(Path model, boolean kill9) throws Exception {
    Path err = dir.resolve(kill9 ? "kill9.stderr" : "sigterm.stderr");
    Process p = Dspex.start(dir, err, Map.of(), "embed", "--input", "in.jsonl", "--output", "out.parquet",
        "--overwrite", "--batch-size", "8", "--model", model.toString());
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    long done = 0;
    while (done == 0 && System.nanoTime() < deadline) {
      assertTrue(p.isAlive(), () -> "the job ended before it was stopped: " + read(err));
      Matcher m = PROGRESS.matcher(read(err));
      while (m.find()) {
        done = Math.max(done, Long.parseLong(m.group(1).replace(",", "")));
      }
      Thread.sleep(200);
    }
    assertTrue(done > 0 && done < RECORDS, () -> "no progress to stop in: " + read(err));
    if (kill9) {
      p.destroyForcibly();
    } else {
      p.destroy();
    }
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the JVM did not end");
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void givenARunStoppedBySigtermOrKill9_thenThePreviousOutputStaysAndTheNextRunCleansUp() throws Exception {
    Path model = TinyModel.create(dir.resolve("tiny-model"));
    Records.synthetic(RECORDS, dir.resolve("in.jsonl"));
    Files.writeString(dir.resolve("out.parquet"), "the previous output");
    Files.writeString(dir.resolve("out.parquet.failures.jsonl"), "the previous failures\n");

    stopMidJob(model, false);
    assertEquals("the previous output", Files.readString(dir.resolve("out.parquet")));
    assertEquals("the previous failures\n", Files.readString(dir.resolve("out.parquet.failures.jsonl")));
    assertEquals(List.of(), temporaryFolders(), "SIGTERM removes the temporary folder");

    stopMidJob(model, true);
    assertEquals("the previous output", Files.readString(dir.resolve("out.parquet")));
    assertEquals(1, temporaryFolders().size(), "kill -9 leaves its temporary folder");

    Dspex.Run r = Dspex.run(dir, "embed", "--input", "in.jsonl", "--output", "out.parquet", "--overwrite",
        "--model", model.toString()).expectExit(0).expectNoStackTrace();
    assertTrue(r.stderr().contains("20,000: 20,000 written"), r::toString);
    assertEquals(RECORDS, parquetRows(dir.resolve("out.parquet")));
    assertEquals(0, Files.size(dir.resolve("out.parquet.failures.jsonl")));
    assertEquals(List.of(), temporaryFolders(), "the next run removes what the killed one left");
  }

  @Test
  void givenA50MbLine_thenItFailsAsInvalidJsonAndTheSummaryAndExitCodeCountIt() throws Exception {
    Path model = TinyModel.create(dir.resolve("tiny-model"));
    StringBuilder b = new StringBuilder();
    for (Map<String, Object> v : Records.readJsonl(Records.corpus()).subList(0, 3)) {
      b.append(Records.JSON.writeValueAsString(v)).append('\n');
    }
    b.append("{\"id\": \"huge\", \"text\": \"").append("a".repeat(50_000_000)).append("\"}\n");
    Files.writeString(dir.resolve("big.jsonl"), b, StandardCharsets.UTF_8);
    b.setLength(0);
    Dspex.Run r = Dspex.run(dir, "embed", "--input", "big.jsonl", "--output", "big-out.jsonl",
        "--model", model.toString()).expectExit(3).expectNoStackTrace();
    assertTrue(r.stderr().contains("4: 3 written to " + dir.resolve("big-out.jsonl") + ", 1 failed"), r::toString);
    assertTrue(r.stderr().contains("big-out.jsonl.failures.jsonl: InvalidJson 1"), r::toString);
    assertTrue(r.stderr().contains("line 4: InvalidJson: line 4 is not valid JSON"), r::toString);
    assertTrue(r.stderr().contains("25.00% of the records failed, above --max-failure-rate 0.01"), r::toString);
    assertEquals(3, Records.readJsonl(dir.resolve("big-out.jsonl")).size());
    try (Stream<String> lines = Files.lines(dir.resolve("big-out.jsonl.failures.jsonl"))) {
      assertEquals(1, lines.count());
    }
  }
}
