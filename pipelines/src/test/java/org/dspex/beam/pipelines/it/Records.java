package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Input files for the end-to-end tests, and the command's outputs read back. */
final class Records {
  static final ObjectMapper JSON = new ObjectMapper();

  private Records() {}

  /** The corpus, {@code testdata/corpus/kjv_pentateuch.jsonl}: 5,852 verses, {@code id} and {@code text}. */
  static Path corpus() {
    return Dspex.testdata("corpus/kjv_pentateuch.jsonl");
  }

  /** The QA set, {@code testdata/qa/qa.jsonl}: 50 records {@code id, question, answer}. */
  static Path qa() {
    return Dspex.testdata("qa/qa.jsonl");
  }

  /** Writes the first {@code n} lines of {@code source} to {@code target}. */
  static Path head(Path source, int n, Path target) throws IOException {
    List<String> lines = Files.readAllLines(source, StandardCharsets.UTF_8);
    Files.write(target, lines.subList(0, Math.min(n, lines.size())), StandardCharsets.UTF_8);
    return target;
  }

  /** The records of a JSONL file, in file order, keys in file order. */
  static List<Map<String, Object>> readJsonl(Path file) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        out.add(parse(line));
      }
    }
    return out;
  }

  /** One JSON object. */
  static Map<String, Object> parse(String json) {
    try {
      return JSON.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException("not a JSON object: " + json, e);
    }
  }

  /**
   * The rows of a Parquet file read with pyarrow (as JSON, so Java sees plain maps and lists), in
   * file order, keys in column order.
   */
  static List<Map<String, Object>> readParquet(Path file) throws IOException, InterruptedException {
    Dspex.Run r = Dspex.python(file.getParent(), String.join("\n",
        "import json, sys",
        "import pyarrow.parquet as pq",
        "for row in pq.read_table(sys.argv[1]).to_pylist():",
        "    print(json.dumps(row))"), file.toString());
    assertEquals(0, r.exitCode(), () -> "pyarrow could not read " + file + ": " + r);
    List<Map<String, Object>> out = new ArrayList<>();
    for (String line : r.stdout().split("\\R")) {
      if (!line.isBlank()) {
        out.add(parse(line));
      }
    }
    return out;
  }

  /** Records by their {@code key} field (which must be unique). */
  static Map<Object, Map<String, Object>> byKey(List<Map<String, Object>> records, String key) {
    Map<Object, Map<String, Object>> out = new LinkedHashMap<>();
    for (Map<String, Object> r : records) {
      Object previous = out.put(r.get(key), r);
      if (previous != null) {
        throw new AssertionError("two records with " + key + " = " + r.get(key));
      }
    }
    return out;
  }

  /** A number field as a double vector. */
  static double[] vector(Object listOfNumbers) {
    List<?> l = (List<?>) listOfNumbers;
    double[] v = new double[l.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = ((Number) l.get(i)).doubleValue();
    }
    return v;
  }

  /** Euclidean norm. */
  static double norm(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }
}
