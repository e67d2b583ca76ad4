package org.dspex.beam.pipelines.progress;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.dspex.beam.pipelines.io.BeamFiles;
import org.dspex.beam.pipelines.io.FailureRecords;
import org.dspex.beam.pipelines.io.Json;

/**
 * A finished job's failures file, tallied for the summary: records by error type, and the first
 * few messages. Immutable.
 *
 * @param byType records per error type, most frequent first
 * @param first the first {@value #FIRST} failures as {@code line N: Type: message}
 */
public record FailureTally(Map<String, Long> byType, List<String> first) {
  /** Messages kept for the summary. */
  public static final int FIRST = 3;

  /** Reads {@code file}, a Beam resource spec (a missing file tallies nothing). */
  public static FailureTally read(String file) throws IOException {
    Map<String, Long> counts = new LinkedHashMap<>();
    List<String> first = new ArrayList<>();
    if (!BeamFiles.exists(file)) {
      return new FailureTally(counts, first);
    }
    try (BufferedReader r = BeamFiles.reader(file)) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (line.isBlank()) {
          continue;
        }
        Map<String, Object> f;
        try {
          f = Json.parseObject(line);
        } catch (JsonProcessingException e) {
          continue;
        }
        String type = String.valueOf(f.get(FailureRecords.ERROR_TYPE));
        counts.merge(type, 1L, Long::sum);
        if (first.size() < FIRST) {
          String m = String.valueOf(f.get(FailureRecords.MESSAGE));
          m = m.replaceAll("\\s+", " ");
          first.add("line " + f.get(FailureRecords.LINE) + ": " + type + ": "
              + (m.length() > 160 ? m.substring(0, 157) + "..." : m));
        }
      }
    }
    Map<String, Long> sorted = new LinkedHashMap<>();
    counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return new FailureTally(sorted, first);
  }

  /** Records of every type. */
  public long total() {
    return byType.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Records of every type but {@code excluded} (e.g. trainset's rejections, which are no errors). */
  public long totalExcept(Set<String> excluded) {
    return byType.entrySet().stream().filter(e -> !excluded.contains(e.getKey()))
        .mapToLong(Map.Entry::getValue).sum();
  }
}
