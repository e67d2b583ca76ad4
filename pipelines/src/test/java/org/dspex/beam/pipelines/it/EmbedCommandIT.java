package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./dspex embed} end to end, with the real model: the corpus's first verses to Parquet
 * (read back by pyarrow, pandas and DuckDB, vectors equal to the model's own), the same with the
 * int8 model, a deliberately bad input (every line in exactly one of the output and the failures
 * file), that failures file fed back as input, and a Parquet input on the FlinkRunner in local
 * mode. Paths are relative to the temporary working directory, as a user types them.
 */
class EmbedCommandIT {
  @TempDir Path dir;

  @Test
  void givenTheFirst200Verses_whenEmbeddedToParquet_thenEveryVerseHasTheModelsUnitVector() throws Exception {
    Records.head(Records.corpus(), 200, dir.resolve("verses.jsonl"));
    Dspex.Run r = Dspex.run(dir, "embed", "--input", "verses.jsonl", "--output", "out/verses.parquet",
        "--normalize", "--keep-fields", "text").expectExit(0).expectNoStackTrace();
    assertTrue(r.stderr().contains("dspex embed: done in"), r::toString);
    assertTrue(r.stderr().contains("200: 200 written to " + dir.resolve("out/verses.parquet") + ", 0 failed"),
        r::toString);
    assertEquals("", r.stdout(), "stdout stays clean");
    assertEquals(0, Files.size(dir.resolve("out/verses.parquet.failures.jsonl")));

    List<Map<String, Object>> input = Records.readJsonl(dir.resolve("verses.jsonl"));
    Map<String, Object> readers = Records.readWithPythonTools(dir.resolve("out/verses.parquet"), "embedding");
    List<Object> ids = input.stream().map(m -> m.get("id")).sorted().collect(Collectors.toList());
    for (String reader : List.of("pyarrow", "pandas", "duckdb")) {
      @SuppressWarnings("unchecked")
      Map<String, Object> seen = (Map<String, Object>) readers.get(reader);
      assertEquals(List.of("id", "text", "embedding"), seen.get("columns"), reader);
      assertEquals(200, ((Number) seen.get("rows")).intValue(), reader);
      assertEquals(ids, seen.get("ids"), reader);
      assertEquals(List.of(384), seen.get("lengths"), reader);
    }

    Map<Object, Map<String, Object>> out = Records.byKey(Records.readParquet(dir.resolve("out/verses.parquet")), "id");
    for (Map<String, Object> verse : input) {
      Map<String, Object> row = out.get(verse.get("id"));
      assertEquals(verse.get("text"), row.get("text"));
      assertEquals(1.0, Records.norm(Records.vector(row.get("embedding"))), 1e-5, () -> "norm of " + verse.get("id"));
    }
    // The vectors are the model's: the default backend (the ONNX graph on ONNX Runtime) run
    // directly in Python, no DSPex in between.
    Map<String, Object> diff = compareWithDirect("out/verses.parquet", "float32");
    assertEquals(16, ((Number) diff.get("n")).intValue());
    assertTrue(((Number) diff.get("max_abs_diff")).doubleValue() < 1e-5, diff::toString);
  }

  @Test
  void givenModelPrecisionInt8_thenTheInt8GraphsVectorsCloseToTheFloat32Ones() throws Exception {
    Records.head(Records.corpus(), 40, dir.resolve("verses.jsonl"));
    Dspex.run(dir, "embed", "--input", "verses.jsonl", "--output", "int8.parquet", "--normalize",
        "--keep-fields", "text", "--model-precision", "int8").expectExit(0).expectNoStackTrace();
    // int8 quantizes activations per sub-batch, so a vector moves a little with its batch-mates:
    // compared by direction, not digit by digit.
    Map<String, Object> toFloat = compareWithDirect("int8.parquet", "float32");
    assertTrue(((Number) toFloat.get("min_cosine")).doubleValue() > 0.95, toFloat::toString);
    assertTrue(((Number) toFloat.get("max_abs_diff")).doubleValue() > 1e-4, "int8, not float32: " + toFloat);

    Dspex.Run bad = Dspex.run(dir, "embed", "--input", "verses.jsonl", "--output", "fp16.parquet",
        "--model-precision", "fp16").expectExit(2).expectNoStackTrace();
    assertTrue(bad.stderr().contains("--model-precision must be one of float32, int8; was 'fp16'"), bad::toString);
  }

  /**
   * The first 16 rows of a Parquet output against the ONNX backend of {@code precision} run
   * directly in Python on their texts: {@code {n, max_abs_diff, min_cosine}}.
   */
  private Map<String, Object> compareWithDirect(String parquet, String precision) throws Exception {
    Dspex.Run direct = Dspex.python(dir, String.join("\n",
        "import json, sys",
        "import numpy as np, pyarrow.parquet as pq",
        "from dspex_worker.embed.model_files import ModelFiles, resolve_model_dir",
        "from dspex_worker.embed.onnx_encoder import OnnxEncoder",
        "rows = pq.read_table(sys.argv[1]).to_pylist()[:16]",
        "encoder = OnnxEncoder(ModelFiles.load(resolve_model_dir(None)), sys.argv[2])",
        "want = encoder.encode([r['text'] for r in rows], normalize=True)",
        "got = np.array([r['embedding'] for r in rows], dtype=np.float32)",
        "print(json.dumps({'n': len(rows), 'max_abs_diff': float(np.abs(want - got).max()),",
        "                  'min_cosine': float((want * got).sum(axis=1).min())}))"),
        dir.resolve(parquet).toString(), precision).expectExit(0);
    return Records.parse(direct.stdout().strip());
  }

  /** Line (1-based) -> the error type it must fail with; lines absent here must be in the output. */
  private static final Map<Integer, String> BAD_LINES = Map.of(
      2, "InvalidJson", 3, "MissingField", 4, "MissingField", 5, "FieldTypeError", 6, "FieldTypeError",
      7, "InvalidJson", 8, "InvalidJson");

  @Test
  void givenABadInputFile_thenEveryLineIsInExactlyOneFileAndTheFailuresReplay() throws Exception {
    List<Map<String, Object>> verses = Records.readJsonl(Records.corpus()).subList(0, 22);
    List<String> lines = new ArrayList<>();
    lines.add("\uFEFF" + Records.JSON.writeValueAsString(verses.get(0)) + "\r");          // 1: BOM, CRLF
    lines.add("{\"id\": \"broken\", \"text\": \"no closing quote}");                      // 2
    lines.add("{\"id\": \"no-text\"}");                                                    // 3
    lines.add("{\"id\": \"null-text\", \"text\": null}");                                 // 4
    lines.add("{\"id\": \"number-text\", \"text\": 42}");                                 // 5
    lines.add("{\"id\": \"list-text\", \"text\": [\"a\", \"b\"]}");                       // 6
    lines.add("this line is not JSON");                                                    // 7
    lines.add("[\"an\", \"array\"]");                                                     // 8
    lines.add("");                                                                         // 9: blank, no record
    for (Map<String, Object> v : verses.subList(1, 22)) {                                  // 10..30
      lines.add(Records.JSON.writeValueAsString(v) + (lines.size() % 2 == 0 ? "\r" : ""));
    }
    Files.writeString(dir.resolve("bad.jsonl"), String.join("\n", lines), StandardCharsets.UTF_8);

    Dspex.Run r = Dspex.run(dir, "embed", "--input", "bad.jsonl", "--output", "bad-out.jsonl")
        .expectExit(3).expectNoStackTrace();
    assertTrue(r.stderr().contains("29: 22 written"), r::toString);
    assertTrue(r.stderr().contains("above --max-failure-rate 0.01"), r::toString);

    List<Map<String, Object>> written = Records.readJsonl(dir.resolve("bad-out.jsonl"));
    List<Map<String, Object>> failures = Records.readJsonl(dir.resolve("bad-out.jsonl.failures.jsonl"));
    assertEquals(Records.ids(verses), Records.ids(written));
    for (Map<String, Object> w : written) {
      assertEquals(List.of("id", "embedding"), new ArrayList<>(w.keySet()));
      assertEquals(384, ((List<?>) w.get("embedding")).size());
    }
    Map<Integer, String> failedTypes = new TreeMap<>();
    for (Map<String, Object> f : failures) {
      assertEquals(List.of("line", "input", "error_type", "message", "attempts"),
          new ArrayList<>(f.keySet()).subList(0, 5), f::toString);
      int line = ((Number) f.get("line")).intValue();
      assertEquals(null, failedTypes.put(line, (String) f.get("error_type")), "line " + line + " failed twice");
      assertEquals(0, ((Number) f.get("attempts")).intValue(), f::toString);
      assertTrue(!((String) f.get("message")).isBlank(), f::toString);
      String raw = lines.get(line - 1).strip();
      if (f.get("error_type").equals("InvalidJson")) {
        assertEquals(raw, f.get("input"), "an unparsed line is kept as it was");
      } else {
        assertEquals(Records.parse(raw), f.get("input"), "a parsed record is kept as it was");
      }
    }
    assertEquals(new TreeMap<>(BAD_LINES), failedTypes);

    // The failures file as input: just its 7 records run again (and fail again), under their first lines.
    Dspex.Run retry = Dspex.run(dir, "embed", "--input", "bad-out.jsonl.failures.jsonl", "--output", "retry.jsonl")
        .expectExit(3).expectNoStackTrace();
    assertTrue(retry.stderr().contains("7: 0 written"), retry::toString);
    assertEquals(List.of(), Records.readJsonl(dir.resolve("retry.jsonl")));
    Map<Integer, String> retried = new TreeMap<>();
    for (Map<String, Object> f : Records.readJsonl(dir.resolve("retry.jsonl.failures.jsonl"))) {
      retried.put(((Number) f.get("line")).intValue(), (String) f.get("error_type"));
    }
    assertEquals(new TreeMap<>(BAD_LINES), retried);
  }

  @Test
  void givenALineThatIsNotUtf8AndOneOverTheLineLimit_thenEachFailsAloneOnItsLine() throws Exception {
    List<Map<String, Object>> verses = Records.readJsonl(Records.corpus()).subList(0, 3);
    java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
    file.writeBytes((Records.JSON.writeValueAsString(verses.get(0)) + "\n").getBytes(StandardCharsets.UTF_8));
    file.writeBytes("{\"id\": \"latin1\", \"text\": \"caf".getBytes(StandardCharsets.UTF_8));
    file.write(0xE9);                                                                     // 2: Latin-1 e-acute
    file.writeBytes("\"}\n".getBytes(StandardCharsets.UTF_8));
    file.writeBytes(("{\"id\": \"long\", \"text\": \"" + "x".repeat(300) + "\"}\n").getBytes(StandardCharsets.UTF_8));
    for (Map<String, Object> v : verses.subList(1, 3)) {                                 // 4, 5
      file.writeBytes((Records.JSON.writeValueAsString(v) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    Files.write(dir.resolve("mixed.jsonl"), file.toByteArray());

    Dspex.Run r = Dspex.run(dir, "embed", "--input", "mixed.jsonl", "--output", "mixed-out.jsonl",
        "--max-line-bytes", "250", "--max-failure-rate", "0.5").expectExit(0).expectNoStackTrace();
    assertTrue(r.stderr().contains("5: 3 written"), r::toString);
    assertEquals(Records.ids(verses), Records.ids(Records.readJsonl(dir.resolve("mixed-out.jsonl"))));
    Map<Integer, String> failed = new TreeMap<>();
    for (Map<String, Object> f : Records.readJsonl(dir.resolve("mixed-out.jsonl.failures.jsonl"))) {
      failed.put(((Number) f.get("line")).intValue(), (String) f.get("error_type"));
    }
    assertEquals(Map.of(2, "InvalidUtf8", 3, "LineTooLong"), failed);
  }

  @Test
  void givenParquetInput_onFlinkWithParallelism2_thenShardedJsonlWithEveryVerse() throws Exception {
    Dspex.python(dir, String.join("\n",
        "import sys, pyarrow.parquet as pq",
        "pq.write_table(pq.read_table(sys.argv[1]).slice(0, 100), 'verses.parquet')"),
        Dspex.testdata("corpus/kjv_pentateuch.parquet").toString()).expectExit(0);
    Dspex.Run r = Dspex.run(dir, "embed", "--input", "verses.parquet", "--output", "flink-out",
        "--runner", "FlinkRunner", "--parallelism", "2", "--shards", "2", "--normalize")
        .expectExit(0).expectNoStackTrace();
    assertTrue(r.stderr().contains("100: 100 written"), r::toString);
    List<Path> parts;
    try (Stream<Path> s = Files.list(dir.resolve("flink-out"))) {
      parts = s.sorted().collect(Collectors.toList());
    }
    assertEquals(2, parts.size(), parts::toString);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Path part : parts) {
      rows.addAll(Records.readJsonl(part));
    }
    List<Map<String, Object>> input = Records.readParquet(dir.resolve("verses.parquet"));
    assertEquals(Records.ids(input), Records.ids(rows));
    assertEquals(100, rows.size());
    for (Map<String, Object> row : rows) {
      double[] v = Records.vector(row.get("embedding"));
      assertEquals(384, v.length);
      assertEquals(1.0, Records.norm(v), 1e-5);
    }
    assertEquals(0, Files.size(dir.resolve("flink-out.failures.jsonl")));
  }
}
