package org.dspex.beam.transforms.optimize;

import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * The one output row of {@code DSPexOptimize}:
 *
 * <ul>
 *   <li>{@code program_json} STRING: the compiled program as {@code program.save(path)} writes it
 *       (DSPy's JSON), for {@code program.load(path)} and {@code DSPexPredict.withProgramState};
 *   <li>{@code optimizer}, {@code metric} STRING: what compiled it;
 *   <li>{@code trainset_size}, {@code devset_size} INT64: the examples it used;
 *   <li>{@code dev_score_before}, {@code dev_score_after} DOUBLE, nullable: the mean metric of the
 *       program as given and as compiled on the dev set (null without one);
 *   <li>{@code demos}, {@code trials} INT64: demos in the compiled program, candidate programs scored;
 *   <li>{@code lm_calls}, {@code prompt_tokens}, {@code completion_tokens} INT64: what the compile and
 *       both evaluations cost (calls answered from DSPy's cache count nothing);
 *   <li>{@code seconds} DOUBLE: the compile job's time on the worker.
 * </ul>
 */
public final class OptimizeResult {
  public static final String PROGRAM_JSON = "program_json";

  public static final Schema SCHEMA = Schema.builder()
      .addStringField(PROGRAM_JSON)
      .addStringField("optimizer")
      .addStringField("metric")
      .addInt64Field("trainset_size")
      .addInt64Field("devset_size")
      .addNullableField("dev_score_before", Schema.FieldType.DOUBLE)
      .addNullableField("dev_score_after", Schema.FieldType.DOUBLE)
      .addInt64Field("demos")
      .addInt64Field("trials")
      .addInt64Field("lm_calls")
      .addInt64Field("prompt_tokens")
      .addInt64Field("completion_tokens")
      .addDoubleField("seconds")
      .build();

  private OptimizeResult() {}

  /** The row of a worker's {@code result} record. */
  public static Row fromWorker(Map<String, Object> r) {
    Object program = r.get(PROGRAM_JSON);
    if (!(program instanceof String)) {
      throw new IllegalArgumentException("the worker's optimize result has no " + PROGRAM_JSON + ": " + r.keySet());
    }
    return Row.withSchema(SCHEMA).addValues(program, String.valueOf(r.get("optimizer")),
        String.valueOf(r.get("metric")), OptimizeProgress.number(r.get("trainset_size")),
        OptimizeProgress.number(r.get("devset_size")), OptimizeProgress.decimal(r.get("dev_score_before")),
        OptimizeProgress.decimal(r.get("dev_score_after")), OptimizeProgress.number(r.get("demos")),
        OptimizeProgress.number(r.get("trials")), OptimizeProgress.number(r.get("lm_calls")),
        OptimizeProgress.number(r.get("prompt_tokens")), OptimizeProgress.number(r.get("completion_tokens")),
        r.get("seconds") instanceof Number ? ((Number) r.get("seconds")).doubleValue() : 0.0).build();
  }
}
