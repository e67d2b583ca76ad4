package org.dspex.beam.transforms.optimize;

import java.io.Serializable;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One progress event of a compile, as its worker streamed it (docs/protocol.md §9.9.5): a phase
 * began ({@code phase}), a demo was bootstrapped ({@code demo}), a candidate program was scored
 * ({@code trial}), the dev set was scored ({@code evaluation}), or the counts moved while LM calls
 * went on ({@code progress}, at most once a second).
 *
 * @param event {@code phase}, {@code demo}, {@code trial}, {@code evaluation} or {@code progress}
 * @param phase {@code load}, {@code evaluate_before}, {@code compile}, {@code evaluate_after} or {@code save}
 * @param message what happened, in words
 * @param demos demos bootstrapped so far
 * @param trials candidate programs scored so far
 * @param metricCalls metric calls so far
 * @param lmCalls LM calls ended so far (answers from DSPy's cache included)
 * @param score this trial's or evaluation's score (mean metric), or null
 * @param bestScore the best trial score so far, or null
 * @param elapsedSeconds since the compile began
 */
public record OptimizeProgress(String event, String phase, String message, long demos, long trials,
    long metricCalls, long lmCalls, @Nullable Double score, @Nullable Double bestScore, double elapsedSeconds)
    implements Serializable {

  /** The event of a worker's {@code progress} record. */
  public static OptimizeProgress fromWorker(Map<String, Object> m) {
    return new OptimizeProgress(String.valueOf(m.get("event")), String.valueOf(m.get("phase")),
        String.valueOf(m.get("message")), number(m.get("demos")), number(m.get("trials")),
        number(m.get("metric_calls")), number(m.get("lm_calls")), decimal(m.get("score")),
        decimal(m.get("best_score")), m.get("elapsed_s") instanceof Number ? ((Number) m.get("elapsed_s")).doubleValue() : 0);
  }

  /** One line for a log or a console: {@code 0:42 compile: trial 3: score 0.8000 ... (12 LM calls)}. */
  public String line() {
    long s = Math.round(elapsedSeconds);
    return String.format("%d:%02d %s (%d LM calls, %d demos, %d trials)", s / 60, s % 60, message, lmCalls,
        demos, trials);
  }

  static long number(Object o) {
    return o instanceof Number ? ((Number) o).longValue() : 0;
  }

  static @Nullable Double decimal(Object o) {
    return o instanceof Number ? ((Number) o).doubleValue() : null;
  }
}
