package org.dspex.beam.pipelines.optimize;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.pipelines.io.BeamFiles;
import org.dspex.beam.pipelines.io.Json;

/**
 * What {@code dspex optimize} prints when the job ends, from the summary file the job wrote
 * ({@link OptimizeStep#summaryFile}) and the count of unusable examples.
 *
 * @param result the result row without the program (null: no example was usable, nothing compiled)
 * @param failed examples that could not be used
 */
public record Summary(@Nullable Map<String, Object> result, long failed) {

  /** Reads the summary file of {@code output} (empty or missing: nothing compiled). */
  public static Summary read(String output, long failed) throws IOException {
    String file = OptimizeStep.summaryFile(output);
    String text = "";
    if (BeamFiles.exists(file)) {
      try (BufferedReader r = BeamFiles.reader(file)) {
        text = r.lines().collect(Collectors.joining()).trim();
      }
    }
    return new Summary(text.isEmpty() ? null : Json.parseObject(text), failed);
  }

  /** Examples the compile used. */
  public long used() {
    return result == null ? 0 : number("trainset_size") + number("devset_size");
  }

  private long number(String key) {
    Object v = result.get(key);
    return v instanceof Number ? ((Number) v).longValue() : 0;
  }

  private String score(String key) {
    Object v = result.get(key);
    return v instanceof Number ? String.format(Locale.ROOT, "%.3f", ((Number) v).doubleValue()) : "n/a";
  }

  /** Prints the summary lines. */
  public void print(PrintStream err, String output, String failuresFile, double seconds) {
    long s = Math.round(seconds);
    err.printf(Locale.ROOT, "dspex optimize: done in %d:%02d (%.1f s)%n", s / 60, s % 60, seconds);
    err.printf(Locale.ROOT, "  examples   %,d used: %,d train, %,d dev; %,d failed%s%n", used(),
        number("trainset_size"), number("devset_size"), failed, failed > 0 ? " (" + failuresFile + ")" : "");
    err.printf(Locale.ROOT, "  optimizer  %s, metric %s: %,d demos, %,d trials, %.1f s compiling%n",
        result.get("optimizer"), result.get("metric"), number("demos"), number("trials"),
        ((Number) result.get("seconds")).doubleValue());
    err.printf(Locale.ROOT, "  dev score  %s -> %s%n", score("dev_score_before"), score("dev_score_after"));
    err.printf(Locale.ROOT, "  LM tokens  %,d prompt + %,d completion in %,d calls%n", number("prompt_tokens"),
        number("completion_tokens"), number("lm_calls"));
    err.printf(Locale.ROOT, "  program    %s (dspex predict --program-state %s)%n", output, output);
  }
}
