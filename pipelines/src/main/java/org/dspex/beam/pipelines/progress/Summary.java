package org.dspex.beam.pipelines.progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The end-of-job summary on stderr:
 *
 * <pre>
 * dspex embed: done in 0:12 (12.3 s)
 *   records    5,852: 5,850 written to /data/out.parquet, 2 failed
 *   rate       475.8 records/s
 *   failures   /data/out.parquet.failures.jsonl: InvalidJson 1, FieldTypeError 1
 *              line 17: InvalidJson: line 17 is not valid JSON: ...
 *   LM tokens  1,234 prompt + 567 completion in 42 calls
 * </pre>
 *
 * @param notes extra {@code label: text} lines a command adds (e.g. trainset's input keys)
 */
public record Summary(
    String command, double seconds, long written, String output, FailureTally failures,
    String failuresFile, Snapshot tokens, Map<String, String> notes) {

  /** Prints the summary to {@code err}. */
  public void print(PrintStream err) {
    long failed = failures.total();
    long total = written + failed;
    err.printf(Locale.ROOT, "dspex %s: done in %s (%.1f s)%n", command,
        ProgressFormat.duration(Math.round(seconds)), seconds);
    line(err, "records", ProgressFormat.number(total) + ": " + ProgressFormat.number(written)
        + " written to " + output + ", " + ProgressFormat.number(failed) + " failed");
    line(err, "rate", ProgressFormat.rate(total, seconds).replace("/s", " records/s"));
    if (failed > 0) {
      line(err, "failures", failuresFile + ": " + failures.byType().entrySet().stream()
          .map(e -> e.getKey() + " " + ProgressFormat.number(e.getValue())).collect(Collectors.joining(", ")));
      for (String m : failures.first()) {
        line(err, "", m);
      }
    }
    if (tokens.promptTokens() + tokens.completionTokens() > 0) {
      line(err, "LM tokens", ProgressFormat.number(tokens.promptTokens()) + " prompt + "
          + ProgressFormat.number(tokens.completionTokens()) + " completion in "
          + ProgressFormat.number(tokens.lmCalls()) + " calls");
    }
    notes.forEach((k, v) -> line(err, k, v));
    err.flush();
  }

  private static void line(PrintStream err, String label, String text) {
    err.printf(Locale.ROOT, "  %-10s %s%n", label, text);
  }
}
