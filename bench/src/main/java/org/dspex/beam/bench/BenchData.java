package org.dspex.beam.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Deterministic benchmark inputs: the mixed record shape of the original DSPex V2 design note
 * (about 250 bytes as JSON) and an embedding-shaped float32 matrix.
 */
final class BenchData {
  private static final String[] WORDS = {
    "beam", "pipeline", "model", "python", "worker", "arrow", "frame", "batch", "signature",
    "answer", "question", "context", "vector", "token", "latency", "throughput", "record",
    "window", "bundle", "element", "protocol", "schema", "stream", "memory"
  };
  private static final String[] TAGS = {"alpha", "beta", "gamma", "delta", "eps", "zeta"};

  private BenchData() {}

  /** {@code n} records {@code {id, text (~150 chars), score, tags}}, the same for the same n. */
  static List<Map<String, Object>> records(int n) {
    SplittableRandom random = new SplittableRandom(42);
    List<Map<String, Object>> records = new ArrayList<>(n);
    StringBuilder text = new StringBuilder(160);
    for (int i = 0; i < n; i++) {
      text.setLength(0);
      while (text.length() < 150) {
        if (text.length() > 0) {
          text.append(' ');
        }
        text.append(WORDS[random.nextInt(WORDS.length)]);
      }
      Map<String, Object> record = new LinkedHashMap<>();
      record.put("id", (long) i);
      record.put("text", text.toString());
      record.put("score", random.nextDouble());
      record.put(
          "tags",
          List.of(
              TAGS[random.nextInt(TAGS.length)],
              TAGS[random.nextInt(TAGS.length)],
              TAGS[random.nextInt(TAGS.length)]));
      records.add(record);
    }
    return records;
  }

  /** A {@code rows x dim} matrix of float32 values in [-1, 1). */
  static float[][] matrix(int rows, int dim) {
    SplittableRandom random = new SplittableRandom(7);
    float[][] matrix = new float[rows][dim];
    for (float[] row : matrix) {
      for (int j = 0; j < dim; j++) {
        row[j] = (float) (random.nextDouble() * 2 - 1);
      }
    }
    return matrix;
  }
}
