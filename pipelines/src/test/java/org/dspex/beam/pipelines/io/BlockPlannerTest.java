package org.dspex.beam.pipelines.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The block planner and the span readers: for every block size, the blocks of a file cover it
 * end to end, and reading them one after another gives exactly the records of reading the whole
 * file, once each, with the same line numbers; so does a span checkpointed after any record and
 * resumed by a fresh reader.
 */
class BlockPlannerTest {
  private static final int MAX_LINE = 100;
  @TempDir Path dir;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private Path file(String name, byte[]... parts) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    Path f = dir.resolve(name);
    Files.write(f, b.toByteArray());
    return f;
  }

  /** A record as the tests compare it: line, outcome, input, fields. */
  private static String show(SourceRecord r) {
    return r.line() + " " + r.errorType() + " " + r.inputJson() + " " + r.fields();
  }

  private static List<String> whole(Path f, InputFormat format) throws IOException {
    List<String> out = new ArrayList<>();
    try (SeekableByteChannel ch = Files.newByteChannel(f);
        RecordReader r = RecordReader.open(f.toString(), format, ch, false, MAX_LINE)) {
      for (SourceRecord s = r.next(); s != null; s = r.next()) {
        out.add(show(s));
      }
    }
    return out;
  }

  private static List<Span> plan(Path f, InputFormat format, int blockRecords) throws IOException {
    List<Span> spans = new ArrayList<>();
    BlockPlanner.plan(f.toString(), Files.size(f), format, false, blockRecords, MAX_LINE, spans::add);
    return spans;
  }

  private static List<String> read(Path f, InputFormat format, Span span) throws IOException {
    List<String> out = new ArrayList<>();
    try (RecordReader r = RecordReader.open(f.toString(), format, false, MAX_LINE, span)) {
      for (SourceRecord s = r.next(); s != null; s = r.next()) {
        out.add(show(s));
      }
    }
    return out;
  }

  /** Every block size gives blocks that tile the file and, read in turn, the whole file's records. */
  private void assertBlocksReadAsTheWholeFile(Path f, InputFormat format, long end) throws IOException {
    List<String> expected = whole(f, format);
    for (int k : new int[] {1, 2, 3, 5, 1000, 0}) {
      List<Span> spans = plan(f, format, k);
      long at = 0;
      List<String> got = new ArrayList<>();
      for (Span s : spans) {
        assertEquals(at, s.from(), "blocks of " + k + " tile the file: " + spans);
        at = s.to();
        got.addAll(read(f, format, s));
      }
      assertEquals(end, at, "the last block of " + k + " ends at the end: " + spans);
      assertEquals(expected, got, "blocks of " + k + " records: " + spans);
    }
  }

  /** A checkpoint after any number of records, resumed by a fresh reader, reads the same records. */
  private void assertCheckpointsResumeExactly(Path f, InputFormat format, Span whole) throws IOException {
    List<String> expected = read(f, format, whole);
    for (int m = 0; m <= expected.size(); m++) {
      SpanTracker tracker = new SpanTracker(whole);
      List<String> got = new ArrayList<>();
      try (SpanCursor c = new SpanCursor(RecordReader.open(f.toString(), format, false, MAX_LINE, whole))) {
        for (int i = 0; i < m && !c.peek(1).isEmpty(); i++) {
          assertTrue(tracker.tryClaim(c.claim()));
          got.add(show(c.peek(1).get(0)));
          c.advance();
        }
      }
      SplitResult<Span> split = tracker.trySplit(0);
      if (m == expected.size()) {
        continue;
      }
      assertNotNull(split, "a checkpoint after " + m + " records");
      tracker.checkDone();
      got.addAll(read(f, format, split.getResidual()));
      assertEquals(expected, got, "checkpointed after " + m + " records at " + split.getResidual());
    }
  }

  @Test
  void givenJsonlWithBomCrlfBlankBadAndLongLines_whenReadInBlocks_thenEveryRecordOnceWithItsLine() throws IOException {
    Path f = file("a.jsonl", utf8("\uFEFF{\"id\": 1}\r\n\r\n{\"id\": 2}\n  \n{bad\n"), new byte[] {(byte) 0xFF},
        utf8("\n{\"id\": \"" + "x".repeat(200) + "\"}\n{\"id\": 3}\r\n\n\n{\"id\": 4}"));
    assertBlocksReadAsTheWholeFile(f, InputFormat.JSONL, Files.size(f));
    List<String> all = whole(f, InputFormat.JSONL);
    assertEquals(List.of("1", "3", "5", "6", "7", "8", "11"), all.stream().map(r -> r.split(" ")[0]).toList());
    assertTrue(all.get(3).startsWith("6 InvalidUtf8 "), all.get(3));
    assertTrue(all.get(4).startsWith("7 LineTooLong "), all.get(4));
    assertCheckpointsResumeExactly(f, InputFormat.JSONL, new Span(0, Files.size(f), 1));
  }

  @Test
  void givenJsonlWithATrailingNewline_whenPlannedInBlocksOfOne_thenABlockPerLineAndNoneEmptyAtTheEnd()
      throws IOException {
    Path f = file("b.jsonl", utf8("{\"id\": 1}\n{\"id\": 2}\n{\"id\": 3}\n"));
    assertEquals(List.of(new Span(0, 10, 1), new Span(10, 20, 2), new Span(20, 30, 3)), plan(f, InputFormat.JSONL, 1));
    assertEquals(List.of(new Span(0, 20, 1), new Span(20, 30, 3)), plan(f, InputFormat.JSONL, 2));
    assertEquals(List.of(new Span(0, 30, 1)), plan(f, InputFormat.JSONL, 0));
    assertEquals(List.of(), plan(file("empty.jsonl"), InputFormat.JSONL, 1));
  }

  @Test
  void givenCsvWithQuotedLineBreaksAcrossBlockBoundaries_whenReadInBlocks_thenRecordsAreWholeAndLinesExact()
      throws IOException {
    String csv = "\uFEFF\"id\",\"te\r\nxt\"\r\n"
        + "1,\"a, b\"\r\n"
        + "2,\"say \"\"hi\"\"\r\nsecond line\r\nthird\"\r\n"
        + "3,plain\r\n"
        + "4,too,many\r\n"
        + "\r\n"
        + "5,\"closed\" then text\r\n"
        + "6,\"" + "y".repeat(150) + "\"\r\n"
        + "7,\"a quoted field with a long line\n" + "z".repeat(150) + "\n,and more\"\n"
        + "8,\"\"\"quoted\"\"\",\n"
        + "9,last";
    Path f = file("q.csv", utf8(csv));
    List<String> all = whole(f, InputFormat.CSV);
    assertEquals(10, all.size(), String.join("\n", all));
    assertTrue(all.get(1).startsWith("4 null "), all.get(1));
    assertTrue(all.get(1).contains("say \\\"hi\\\"\\r\\nsecond line\\r\\nthird"), all.get(1));
    assertTrue(all.get(2).startsWith("7 null "), all.get(2));
    assertTrue(all.get(3).startsWith("8 InvalidCsv "), all.get(3));
    assertTrue(all.get(4).startsWith("9 InvalidCsv "), all.get(4));
    assertTrue(all.get(5).startsWith("10 InvalidCsv "), all.get(5));
    assertTrue(all.get(6).startsWith("11 LineTooLong "), all.get(6));
    assertTrue(all.get(7).startsWith("12 LineTooLong "), all.get(7));
    assertTrue(all.get(8).startsWith("15 InvalidCsv "), all.get(8));
    assertTrue(all.get(9).startsWith("16 null "), all.get(9));
    assertBlocksReadAsTheWholeFile(f, InputFormat.CSV, Files.size(f));
    assertCheckpointsResumeExactly(f, InputFormat.CSV, new Span(0, Files.size(f), 1));
    List<Long> starts = new ArrayList<>(List.of(0L));
    try (SeekableByteChannel ch = Files.newByteChannel(f);
        RecordReader r = RecordReader.open(f.toString(), InputFormat.CSV, ch, false, MAX_LINE)) {
      while (r.next() != null) {
        starts.add(r.end());
      }
    }
    for (Span s : plan(f, InputFormat.CSV, 1)) {
      assertTrue(starts.contains(s.from()), "a block starts where a record starts, not in quotes: " + s);
    }
  }

  @Test
  void givenCsvWithAQuoteNeverClosed_whenReadInBlocks_thenTheRestOfTheFileIsOneInvalidRecord() throws IOException {
    Path f = file("open.csv", utf8("id,text\n1,a\n2,\"open\n3,b\n4,c\n"));
    List<String> all = whole(f, InputFormat.CSV);
    assertEquals(2, all.size(), String.join("\n", all));
    assertTrue(all.get(1).startsWith("3 InvalidCsv \"(unreadable from here to the end of the file)\""), all.get(1));
    assertBlocksReadAsTheWholeFile(f, InputFormat.CSV, Files.size(f));
    assertEquals(2, plan(f, InputFormat.CSV, 1).size(), "no cut after the open quote");
  }

  @Test
  void givenAHeaderWithoutRecordsOrABadHeader_whenRead_thenNoRecordsOrAnErrorNamingTheHeader() throws IOException {
    assertEquals(List.of(), whole(file("h.csv", utf8("id,text\n")), InputFormat.CSV));
    IOException dup = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
        () -> whole(file("d.csv", utf8("id,id\n1,2\n")), InputFormat.CSV));
    assertTrue(dup.getMessage().contains("\"id\" is given twice"), dup.getMessage());
    IOException missing = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
        () -> whole(file("m.csv", utf8("id,,x\n1,2,3\n")), InputFormat.CSV));
    assertTrue(missing.getMessage().contains("a column name is missing"), missing.getMessage());
  }

  private Path parquet(int rows, int rowGroupBytes) throws IOException {
    Schema schema = SchemaBuilder.record("r").fields().requiredLong("n").requiredString("text").endRecord();
    Path f = dir.resolve("p-" + rows + ".parquet");
    FileIO.Sink<GenericRecord> sink = ParquetIO.sink(schema).withRowGroupSize(rowGroupBytes);
    try (var ch = Files.newByteChannel(f, java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.WRITE)) {
      sink.open(ch);
      for (int i = 0; i < rows; i++) {
        GenericRecord r = new GenericData.Record(schema);
        r.put("n", (long) i);
        r.put("text", "row " + i + " " + "w".repeat(i % 50));
        sink.write(r);
      }
      sink.flush();
    }
    return f;
  }

  @Test
  void givenParquetOfSeveralRowGroups_whenPlanned_thenARowGroupOrAPartOfOneABlockAndEveryRowOnce()
      throws IOException {
    Path f = parquet(2_000, 4_096);
    List<Long> groups;
    try (SeekableByteChannel ch = Files.newByteChannel(f)) {
      groups = ParquetRecordReader.rowGroups(ch, f.toString());
    }
    assertTrue(groups.size() > 3, "several row groups: " + groups);
    assertEquals(groups.size(), plan(f, InputFormat.PARQUET, 1_000_000).size());
    List<Span> parts = plan(f, InputFormat.PARQUET, 1);
    assertEquals(groups.size() * BlockPlanner.MAX_PARTS_PER_ROW_GROUP, parts.size(), "parts: " + parts);
    List<String> expected = whole(f, InputFormat.PARQUET);
    assertEquals(2_000, expected.size());
    assertTrue(expected.get(1_999).startsWith("2000 null "), expected.get(1_999));
    for (int k : new int[] {1, 7, 1_000_000, 0}) {
      long at = 0;
      List<String> got = new ArrayList<>();
      for (Span s : plan(f, InputFormat.PARQUET, k)) {
        assertEquals(at, s.from());
        assertEquals(s.from() + 1, s.line());
        at = s.to();
        got.addAll(read(f, InputFormat.PARQUET, s));
      }
      assertEquals(2_000, at);
      assertEquals(expected, got, "blocks of " + k);
    }
  }

  @Test
  void givenParquet_whenCheckpointedInsideARowGroup_thenAFreshReaderResumesAtTheRightRow() throws IOException {
    Path f = parquet(300, 2_048);
    assertCheckpointsResumeExactly(f, InputFormat.PARQUET, new Span(0, 300, 1));
  }

  @Test
  void givenASpanCheckpointed_thenTheTrackerCutsWhereTheLastRecordEndsAndDeclinesOtherSplits() {
    SpanTracker t = new SpanTracker(new Span(100, 1_000, 7));
    assertNull(t.trySplit(0.5));
    assertTrue(t.tryClaim(new SpanTracker.Claim(120, 180, 9)));
    SplitResult<Span> s = t.trySplit(0);
    assertEquals(new Span(100, 180, 7), s.getPrimary());
    assertEquals(new Span(180, 1_000, 9), s.getResidual());
    assertFalse(t.tryClaim(new SpanTracker.Claim(180, 200, 10)));
    t.checkDone();
    SpanTracker unfinished = new SpanTracker(new Span(0, 10, 1));
    assertTrue(unfinished.tryClaim(new SpanTracker.Claim(0, 5, 2)));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, unfinished::checkDone);
    assertFalse(unfinished.tryClaim(SpanTracker.Claim.END));
    unfinished.checkDone();
  }
}
