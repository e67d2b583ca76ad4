package org.dspex.beam.transforms;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * The committed training set ({@code testdata/trainset/qa_trainset.jsonl}, written by {@code dspex
 * trainset}) as rows, and a DSPy {@code DummyLM} that knows its answers, for the optimize tests.
 */
final class OptimizeExamples {
  static final Schema SCHEMA = Schema.builder().addNullableField("question", Schema.FieldType.STRING)
      .addNullableField("answer", Schema.FieldType.STRING).build();
  static final String DUMMY_LM = "dspex_testing.lms:dummy_lm";
  private static final ObjectMapper JSON = new ObjectMapper();

  private OptimizeExamples() {}

  /** The 50 records as maps, in file order. */
  static List<Map<String, String>> records() throws IOException {
    Path file = Path.of(System.getProperty("dspex.testdata", "../testdata")).resolve("trainset/qa_trainset.jsonl");
    List<Map<String, String>> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      if (!line.isBlank()) {
        out.add(JSON.readValue(line, new TypeReference<Map<String, String>>() {}));
      }
    }
    return out;
  }

  /** The records as rows of {@link #SCHEMA}. */
  static List<Row> rows() throws IOException {
    List<Row> rows = new ArrayList<>();
    for (Map<String, String> r : records()) {
      rows.add(Row.withSchema(SCHEMA).addValues(r.get("question"), r.get("answer")).build());
    }
    return rows;
  }

  /** {@code dummy_lm}'s kwargs: each question answered with its label, anything else "no idea". */
  static Map<String, Object> dummyAnswers() throws IOException {
    Map<String, Object> answers = new LinkedHashMap<>();
    for (Map<String, String> r : records()) {
      answers.put(r.get("question"), Map.of("answer", r.get("answer")));
    }
    return Map.of("answers", answers, "default", Map.of("answer", "no idea"));
  }

  /** An optimize transform of {@code question -> answer} whose student is the {@link #dummyAnswers} DummyLM. */
  static DSPexOptimize dummyOptimize() throws IOException {
    return DSPexOptimize.of("question -> answer")
        .withLmFactory(DUMMY_LM, dummyAnswers())
        .withCache(false)
        .withPython(TestSupport.python())
        .withPythonPath(TestSupport.workerTestingPath());
  }
}
