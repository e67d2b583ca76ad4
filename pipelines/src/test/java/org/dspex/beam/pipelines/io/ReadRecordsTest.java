package org.dspex.beam.pipelines.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.dspex.beam.transforms.signature.FieldType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ReadRecords} on the DirectRunner: whole files and blocks read the same records as the
 * readers do, each once, with its file and line, over a glob of JSONL files, CSV and Parquet; and a
 * large file is never read far ahead of the step after the reading.
 */
class ReadRecordsTest {
  @TempDir Path dir;

  private static Pipeline pipeline(int threads) {
    PipelineOptions o = PipelineOptionsFactory.create();
    o.setRunner(DirectRunner.class);
    o.as(DirectOptions.class).setTargetParallelism(threads);
    return Pipeline.create(o);
  }

  private static RecordLayout layout(String field) {
    return RecordLayout.of(List.of(new RecordLayout.Column(field, FieldType.STR, true)));
  }

  /** What the readers read from the whole files, as {@code file:line:input} and failures as {@code file:line:type}. */
  private static List<List<String>> expected(List<Path> files, InputFormat format, String field) throws IOException {
    List<String> rows = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (Path f : files) {
      try (SeekableByteChannel ch = Files.newByteChannel(f);
          RecordReader r = RecordReader.open(f.toString(), format, ch, false, InputProbe.DEFAULT_MAX_LINE_BYTES)) {
        for (SourceRecord s = r.next(); s != null; s = r.next()) {
          if (s.ok() && s.fields().get(field) instanceof String) {
            rows.add(f + ":" + s.line() + ":" + s.inputJson());
          } else {
            failures.add(f + ":" + s.line() + ":" + (s.ok() ? "Field" : s.errorType()));
          }
        }
      }
    }
    return List.of(rows, failures);
  }

  private void assertReadsAsTheReaders(String pattern, List<Path> files, InputFormat format, String field,
      int blockRecords, int chunkRecords) throws Exception {
    List<List<String>> expected = expected(files, format, field);
    assertTrue(expected.get(0).size() > 10, "the test reads records: " + expected.get(0).size());
    for (int blocks : new int[] {ReadRecords.WHOLE_FILES, blockRecords}) {
      InputProbe probe = InputProbe.of(pattern, null);
      Pipeline p = pipeline(2);
      PCollectionTuple t = p.apply(ReadRecords.of(probe, layout(field)).withBlockRecords(blocks)
          .withChunkRecords(chunkRecords));
      PAssert.that(t.get(ReadRecords.ROWS).apply("Rows", MapElements.into(TypeDescriptors.strings())
              .via(r -> r.getString(RecordLayout.FILE) + ":" + r.getInt64(RecordLayout.LINE) + ":"
                  + r.getString(RecordLayout.INPUT))))
          .containsInAnyOrder(expected.get(0));
      PAssert.that(t.get(ReadRecords.FAILURES).apply("Failures", MapElements.into(TypeDescriptors.strings())
              .via(r -> r.getString(FailureRecords.FILE) + ":" + r.getInt64(FailureRecords.LINE) + ":"
                  + (r.getString(FailureRecords.ERROR_TYPE).equals(RecordLayout.MISSING_FIELD)
                      || r.getString(FailureRecords.ERROR_TYPE).equals(RecordLayout.FIELD_TYPE)
                      ? "Field" : r.getString(FailureRecords.ERROR_TYPE)))))
          .containsInAnyOrder(expected.get(1));
      assertEquals(PipelineResult.State.DONE, p.run().waitUntilFinish(), "blocks of " + blocks);
    }
  }

  @Test
  void givenAGlobOfJsonlFiles_whenReadWholeOrInBlocks_thenEveryRecordOnceWithItsFileAndLine() throws Exception {
    List<Path> files = new ArrayList<>();
    for (int k = 0; k < 3; k++) {
      StringBuilder b = new StringBuilder();
      for (int i = 1; i <= 40 + k; i++) {
        b.append(i % 9 == 0 ? "{broken\n" : i % 7 == 0 ? "\n" : i % 11 == 0 ? "{\"id\": 1}\n"
            : "{\"text\": \"f" + k + " r" + i + "\"}\r\n");
      }
      Path f = dir.resolve("part-" + k + ".jsonl");
      Files.writeString(f, b.toString());
      files.add(f);
    }
    assertReadsAsTheReaders(dir.resolve("part-*.jsonl").toString(), files, InputFormat.JSONL, "text", 7, 5);
  }

  @Test
  void givenTheCorpusAsCsvAndParquet_whenReadWholeOrInBlocks_thenEveryVerseOnceWithItsLine() throws Exception {
    Path corpus = Path.of(System.getProperty("dspex.testdata", "../testdata"), "corpus").toAbsolutePath().normalize();
    Path csv = corpus.resolve("kjv_pentateuch.csv");
    assertReadsAsTheReaders(csv.toString(), List.of(csv), InputFormat.CSV, "text", 1_000,
        ReadRecords.DEFAULT_CHUNK_RECORDS);
    Path parquet = corpus.resolve("kjv_pentateuch.parquet");
    assertReadsAsTheReaders(parquet.toString(), List.of(parquet), InputFormat.PARQUET, "text", 1_000,
        ReadRecords.DEFAULT_CHUNK_RECORDS);
  }

  private static final AtomicLong SEEN = new AtomicLong();
  private static final AtomicLong MOST_AHEAD = new AtomicLong();

  /** Notes how far the reading is ahead of this step, in bytes of the file. */
  static final class Behind extends DoFn<Row, Void> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(@Element Row r) {
      long seen = SEEN.addAndGet(r.getString(RecordLayout.INPUT).getBytes(StandardCharsets.UTF_8).length + 1);
      MOST_AHEAD.accumulateAndGet(MemoryFileSystem.bytesRead() - seen, Math::max);
    }
  }

  @Test
  void givenALargeFileOnTheDirectRunner_whenRead_thenTheReadingStaysWithinAFewBundlesOfTheNextStep()
      throws Exception {
    StringBuilder b = new StringBuilder();
    int n = 40_000;
    for (int i = 0; i < n; i++) {
      b.append("{\"text\": \"record ").append(String.format("%08d", i)).append(" of a file held nowhere whole\"}\n");
    }
    byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
    String name = "mem://bucket/large-" + System.nanoTime() + ".jsonl";
    try (var ch = org.apache.beam.sdk.io.FileSystems.create(
        org.apache.beam.sdk.io.FileSystems.matchNewResource(name, false), "application/octet-stream")) {
      ch.write(java.nio.ByteBuffer.wrap(bytes));
    }
    InputProbe probe = InputProbe.of(name, null);
    SEEN.set(0);
    MOST_AHEAD.set(0);
    long before = MemoryFileSystem.bytesRead();
    Pipeline p = pipeline(1);
    p.apply(ReadRecords.of(probe, layout("text")).withBlockRecords(ReadRecords.WHOLE_FILES))
        .get(ReadRecords.ROWS).apply(ParDo.of(new Behind()));
    assertEquals(PipelineResult.State.DONE, p.run().waitUntilFinish());
    assertEquals(bytes.length, SEEN.get(), "every record reached the next step");
    long ahead = MOST_AHEAD.get() - before;
    // A whole-file read would be the whole file ahead; a checkpointed one a read buffer and a few bundles.
    assertTrue(ahead < bytes.length / 8, "the reading ran " + ahead + " bytes ahead of a " + bytes.length
        + "-byte file");
  }
}
