package org.dspex.beam.pipelines.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record readers: line numbers, BOM, CRLF, bad lines, CSV quoting, Parquet, replayed failures. */
class ReadersTest {
  @TempDir Path dir;

  private static List<SourceRecord> all(RecordReader r) throws IOException {
    List<SourceRecord> out = new ArrayList<>();
    try (r) {
      for (SourceRecord s = r.next(); s != null; s = r.next()) {
        out.add(s);
      }
    }
    return out;
  }

  private static ByteArrayInputStream bytes(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void givenBomCrlfAndBlankLines_whenReadingJsonl_thenRecordsKeepTheirLineNumbers() throws IOException {
    List<SourceRecord> r = all(new JsonLinesReader(bytes("\uFEFF{\"id\": 1, \"text\": \"a\"}\r\n\r\n{\"id\": 2, \"text\": \"b\"}\r\n")));
    assertEquals(2, r.size());
    assertEquals(1, r.get(0).line());
    assertEquals(Map.of("id", 1, "text", "a"), r.get(0).fields());
    assertEquals(3, r.get(1).line());
    assertEquals("{\"id\": 2, \"text\": \"b\"}", r.get(1).inputJson());
  }

  @Test
  void givenBrokenJsonAndANonObject_whenReadingJsonl_thenEachIsInvalidJsonWithTheRawLine() throws IOException {
    List<SourceRecord> r = all(new JsonLinesReader(bytes("{\"a\": 1\n[1, 2]\n{\"a\": 1} trailing\n")));
    assertEquals(3, r.size());
    for (SourceRecord s : r) {
      assertFalse(s.ok());
      assertEquals(JsonLinesReader.INVALID_JSON, s.errorType());
    }
    assertEquals("\"{\\\"a\\\": 1\"", r.get(0).inputJson());
    assertTrue(r.get(1).message().contains("array"), r.get(1).message());
  }

  @Test
  void givenQuotedCommasQuotesAndLineBreaks_whenReadingCsv_thenValuesAndStartLinesAreExact() throws IOException {
    String csv = "\uFEFFid,text\r\n1,\"a, b\"\r\n2,\"say \"\"hi\"\"\r\nsecond line\"\r\n3,plain\r\n4,too,many\r\n";
    List<SourceRecord> r = all(new CsvRecordReader(bytes(csv)));
    assertEquals(4, r.size());
    assertEquals(Map.of("id", "1", "text", "a, b"), r.get(0).fields());
    assertEquals(2, r.get(0).line());
    assertEquals("say \"hi\"\r\nsecond line", r.get(1).fields().get("text"));
    assertEquals(3, r.get(1).line());
    assertEquals(5, r.get(2).line());
    assertEquals(CsvRecordReader.INVALID_CSV, r.get(3).errorType());
    assertEquals(6, r.get(3).line());
  }

  @Test
  void givenTheCorpusParquet_whenReading_thenRowsAreNumberedFromOne() throws IOException {
    Path corpus = Path.of(System.getProperty("dspex.testdata", "../testdata"), "corpus", "kjv_pentateuch.parquet");
    try (var ch = Files.newByteChannel(corpus); RecordReader r = RecordReader.open(InputFormat.PARQUET, ch, false)) {
      SourceRecord first = r.next();
      assertEquals(1, first.line());
      assertEquals("Genesis 1:1", first.fields().get("id"));
      long n = 1;
      while (r.next() != null) {
        n++;
      }
      assertEquals(5852, n);
    }
  }

  @Test
  void givenAFailuresFile_whenReplayed_thenInputsComeBackUnderTheirOriginalLines() throws IOException {
    Path f = dir.resolve("out.jsonl.failures.jsonl");
    Files.writeString(f, "{\"line\":7,\"input\":{\"text\":\"x\"},\"error_type\":\"E\",\"message\":\"m\",\"attempts\":1,\"file\":\"a\"}\n"
        + "{\"line\":9,\"input\":\"{broken\",\"error_type\":\"InvalidJson\",\"message\":\"m\",\"attempts\":0,\"file\":\"a\"}\n"
        + "{\"line\":11,\"input\":\"{\\\"text\\\": \\\"fixed\\\"}\",\"error_type\":\"InvalidJson\",\"message\":\"m\",\"attempts\":0}\n");
    List<SourceRecord> r;
    try (var ch = Files.newByteChannel(f)) {
      r = all(RecordReader.open(InputFormat.JSONL, ch, true));
    }
    assertEquals(7, r.get(0).line());
    assertEquals(Map.of("text", "x"), r.get(0).fields());
    assertEquals(9, r.get(1).line());
    assertEquals(JsonLinesReader.INVALID_JSON, r.get(1).errorType());
    assertEquals(11, r.get(2).line());
    assertEquals(Map.of("text", "fixed"), r.get(2).fields());
  }

  @Test
  void givenAFailuresFile_whenProbed_thenItIsReplayedAndItsInputFieldsAreKnown() throws Exception {
    Path f = dir.resolve("x.failures.jsonl");
    Files.writeString(f, "{\"line\":3,\"input\":{\"id\":\"a\",\"text\":\"x\"},\"error_type\":\"E\",\"message\":\"m\",\"attempts\":1}\n");
    InputProbe p = InputProbe.of(f.toString(), null);
    assertTrue(p.replay());
    assertEquals(List.of("id", "text"), new ArrayList<>(p.fieldNames()));
    assertEquals(1, p.total());
  }

  @Test
  void givenNoMatchingFile_whenProbed_thenTheErrorSaysItDoesNotExist() {
    InputProbe.InputException e = org.junit.jupiter.api.Assertions.assertThrows(InputProbe.InputException.class,
        () -> InputProbe.of(dir.resolve("nope.jsonl").toString(), null));
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
  }

  @Test
  void givenAFileThatIsNotParquet_whenProbed_thenTheErrorNamesTheFormat() throws IOException {
    Path f = dir.resolve("bad.parquet");
    Files.writeString(f, "not parquet at all");
    InputProbe.InputException e = org.junit.jupiter.api.Assertions.assertThrows(InputProbe.InputException.class,
        () -> InputProbe.of(f.toString(), null));
    assertTrue(e.getMessage().contains("as PARQUET"), e.getMessage());
    assertNull(e.getCause());
  }
}
