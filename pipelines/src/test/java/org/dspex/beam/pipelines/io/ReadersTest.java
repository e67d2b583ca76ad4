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
  void givenARelativeInput_whenProbed_thenTheJobReadsItAbsoluteAsTheCallerMeantIt() throws Exception {
    // A cluster's TaskManagers resolve a relative path against their own working directory.
    Path relative = Path.of("target", "relative-input-" + System.nanoTime() + ".jsonl");
    Files.createDirectories(relative.getParent());
    Files.writeString(relative, "{\"text\":\"x\"}\n");
    try {
      InputProbe p = InputProbe.of(relative.toString(), null);
      assertEquals(relative.toAbsolutePath().normalize().toString(), p.pattern());
    } finally {
      Files.delete(relative);
    }
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

  private static ByteArrayInputStream raw(byte[]... parts) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return new ByteArrayInputStream(b.toByteArray());
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void givenALineThatIsNotUtf8_whenReadingJsonl_thenItAloneIsInvalidUtf8NamingTheByte() throws IOException {
    List<SourceRecord> r = all(new JsonLinesReader(raw(utf8("{\"text\": \"ok\"}\n{\"text\": \"bad "),
        new byte[] {(byte) 0xFF, (byte) 0xFE}, utf8(" here\"}\n{\"text\": \"fine\"}\n"))));
    assertEquals(3, r.size());
    assertEquals(Map.of("text", "ok"), r.get(0).fields());
    assertEquals("InvalidUtf8", r.get(1).errorType());
    assertEquals(2, r.get(1).line());
    assertTrue(r.get(1).message().contains("line 2 is not valid UTF-8 (byte 15 of the line)"), r.get(1).message());
    assertTrue(r.get(1).inputJson().contains("bad \uFFFD\uFFFD here"), r.get(1).inputJson());
    assertEquals(Map.of("text", "fine"), r.get(2).fields());
    assertEquals(3, r.get(2).line());
  }

  @Test
  void givenALineOverTheLimit_whenReadingJsonl_thenItIsLineTooLongAndTheNextLineIsRead() throws IOException {
    String longLine = "{\"text\": \"" + "x".repeat(1000) + "\"}";
    List<SourceRecord> r = all(new JsonLinesReader(bytes(longLine + "\n{\"text\": \"short\"}\n" + longLine), 100));
    assertEquals(3, r.size());
    assertEquals("LineTooLong", r.get(0).errorType());
    assertTrue(r.get(0).message().contains("line 1 is 1,012 bytes, above the limit of 100 bytes per line"
        + " (--max-line-bytes)"), r.get(0).message());
    assertEquals(Map.of("text", "short"), r.get(1).fields());
    assertEquals(2, r.get(1).line());
    assertEquals("LineTooLong", r.get(2).errorType());
    assertEquals(3, r.get(2).line());
  }

  @Test
  void givenAFileOfOneHugeLine_whenReadingJsonl_thenOneLineTooLongRecordWithoutHoldingTheLine() throws IOException {
    // 64 MiB + 1 of one line through the default limit: memory holds at most the limit.
    java.io.InputStream huge = new java.io.InputStream() {
      long left = (64L << 20) + 1;

      @Override
      public int read() {
        return left-- > 0 ? 'x' : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (left <= 0) {
          return -1;
        }
        int n = (int) Math.min(len, left);
        java.util.Arrays.fill(b, off, off + n, (byte) 'x');
        left -= n;
        return n;
      }
    };
    List<SourceRecord> r = all(new JsonLinesReader(huge));
    assertEquals(1, r.size());
    assertEquals("LineTooLong", r.get(0).errorType());
    assertTrue(r.get(0).message().contains("67,108,865 bytes"), r.get(0).message());
  }

  @Test
  void givenARecordWithABadByteOnItsSecondLine_whenReadingCsv_thenItAloneFailsAsInvalidUtf8() throws IOException {
    List<SourceRecord> r = all(new CsvRecordReader(raw(utf8("id,text\r\n1,a\r\n2,\"first\r\nsec"),
        new byte[] {(byte) 0xC3}, utf8("ond\"\r\n3,c\r\n"))));
    assertEquals(3, r.size());
    assertEquals(Map.of("id", "1", "text", "a"), r.get(0).fields());
    assertEquals("InvalidUtf8", r.get(1).errorType());
    assertEquals(3, r.get(1).line());
    assertTrue(r.get(1).message().contains("line 4 is not valid UTF-8"), r.get(1).message());
    assertEquals(Map.of("id", "3", "text", "c"), r.get(2).fields());
    assertEquals(5, r.get(2).line());
  }

  private InputProbe.InputException probeFails(String name, byte[] content) throws IOException {
    Path f = dir.resolve(name);
    Files.write(f, content);
    return org.junit.jupiter.api.Assertions.assertThrows(InputProbe.InputException.class,
        () -> InputProbe.of(f.toString(), null));
  }

  @Test
  void givenEmptyOrBlankFiles_whenProbed_thenTheErrorSaysThereAreNoRecords() throws IOException {
    assertTrue(probeFails("empty.jsonl", new byte[0]).getMessage().endsWith("has no records: it is empty or holds"
        + " only blank lines"));
    assertTrue(probeFails("blank.jsonl", utf8("\n  \r\n\n")).getMessage().contains("has no records"));
    assertTrue(probeFails("empty.csv", new byte[0]).getMessage().contains("has no records"));
  }

  @Test
  void givenUtf16Files_whenProbed_thenTheErrorSaysUtf16AndHowToConvert() throws IOException {
    String bom = probeFails("bom.jsonl", "{\"text\": \"hi\"}\n".getBytes(StandardCharsets.UTF_16)).getMessage();
    assertTrue(bom.contains("is UTF-16 or UTF-32 text (it starts with the byte-order mark FE FF)"), bom);
    assertTrue(bom.contains("iconv -f UTF-16 -t UTF-8"), bom);
    String noBom = probeFails("le.csv", "id,text\n1,a\n".getBytes(StandardCharsets.UTF_16LE)).getMessage();
    assertTrue(noBom.contains("holds NUL bytes (the first at byte 2)"), noBom);
  }

  @Test
  void givenOnlyBrokenLines_whenProbed_thenTheErrorQuotesTheFirstFailure() throws IOException {
    String m = probeFails("broken.jsonl", utf8("{\"a\": 1\nnope\n")).getMessage();
    assertTrue(m.contains("has no readable record among its first 2 as JSONL (line 1: InvalidJson: line 1 is not"
        + " valid JSON"), m);
  }

  @Test
  void givenATruncatedParquetFile_whenProbed_thenTheErrorNamesTheFileNotAJavaObject() throws IOException {
    Path corpus = Path.of(System.getProperty("dspex.testdata", "../testdata"), "corpus", "kjv_pentateuch.parquet");
    byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(corpus), 100_000);
    String m = probeFails("truncated.parquet", head).getMessage();
    assertTrue(m.contains("truncated.parquet is not a Parquet file"), m);
    assertFalse(m.contains("ChannelInputFile@"), m);
  }
}
