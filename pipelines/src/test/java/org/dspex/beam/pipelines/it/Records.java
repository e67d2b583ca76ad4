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
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

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

  /** Writes {@code n} short records {@code {"id": "r<i>", "text": "record <i> ..."}} to {@code target}. */
  static Path synthetic(int n, Path target) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.append("{\"id\": \"r").append(i).append("\", \"text\": \"record number ").append(i)
          .append(" says hello\"}\n");
    }
    return Files.writeString(target, b.toString(), StandardCharsets.UTF_8);
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

  /**
   * The Parquet file as pyarrow, pandas and DuckDB each read it: per reader, {@code columns} (in
   * file order), {@code rows} and {@code ids} (the sorted {@code id} column), plus {@code lengths},
   * the distinct lengths of {@code listColumn} when one is given.
   */
  static Map<String, Object> readWithPythonTools(Path file, String listColumn)
      throws IOException, InterruptedException {
    Dspex.Run r = Dspex.python(file.getParent(), String.join("\n",
        "import json, sys",
        "import duckdb, pandas, pyarrow.parquet as pq",
        "path, col = sys.argv[1], sys.argv[2]",
        "t = pq.read_table(path)",
        "df = pandas.read_parquet(path)",
        "con = duckdb.connect()",
        "rel = con.read_parquet(path)",
        "def q(sql):",
        "    return con.execute(sql, [path]).fetchall()",
        "out = {",
        "  'pyarrow': {'columns': t.column_names, 'rows': t.num_rows,",
        "              'ids': sorted(t.column('id').to_pylist())},",
        "  'pandas': {'columns': list(df.columns), 'rows': len(df), 'ids': sorted(df['id'].tolist())},",
        "  'duckdb': {'columns': rel.columns, 'rows': q('SELECT count(*) FROM read_parquet(?)')[0][0],",
        "             'ids': [r[0] for r in q('SELECT id FROM read_parquet(?) ORDER BY id')]},",
        "}",
        "if col:",
        "    out['pyarrow']['lengths'] = sorted({len(v) for v in t.column(col).to_pylist()})",
        "    out['pandas']['lengths'] = sorted({len(v) for v in df[col]})",
        "    out['duckdb']['lengths'] = [r[0] for r in q(f'SELECT DISTINCT len({col}) FROM read_parquet(?) ORDER BY 1')]",
        "print(json.dumps(out))"), file.toString(), listColumn == null ? "" : listColumn);
    assertEquals(0, r.exitCode(), () -> "pyarrow, pandas or DuckDB could not read " + file + ": " + r);
    return parse(r.stdout().strip());
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

  /** The {@code id} values of {@code records}, as strings, sorted. */
  static TreeSet<String> ids(Collection<Map<String, Object>> records) {
    TreeSet<String> out = new TreeSet<>();
    for (Map<String, Object> r : records) {
      out.add(String.valueOf(r.get("id")));
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
