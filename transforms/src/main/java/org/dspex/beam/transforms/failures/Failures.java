package org.dspex.beam.transforms.failures;

import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * The rows of {@code failures()}: one per element that got no output, with enough to replay it.
 *
 * <ul>
 *   <li>{@code element} STRING: the input element as JSON (its key and fields, as the output row
 *       would have carried them);
 *   <li>{@code error_type} STRING: the Python exception's class for an element the worker rejected
 *       (e.g. {@code AdapterParseError}), else one of {@link #ELEMENT_TOO_LARGE}, {@link
 *       #BUDGET_EXHAUSTED}, {@link #WORKER_CRASHED}, {@link #OUTPUT_TYPE}, {@link #HANDLER_ERROR} (and,
 *       for {@code DSPexOptimize}'s examples, {@link #MISSING_FIELD}, {@link #FIELD_TYPE});
 *   <li>{@code message} STRING: what happened (never a secret's value: the connector redacts them);
 *   <li>{@code attempts} INT32: times the element was sent to a worker (0: never sent);
 *   <li>{@code worker} STRING, nullable: the worker it last failed on, when known.
 * </ul>
 */
public final class Failures {
  /** The element lacks the value the model needs (a null text to embed); it was not sent. */
  public static final String MISSING_INPUT = "MissingInput";
  /** The element is larger than {@code withMaxElementBytes}; it was not sent. */
  public static final String ELEMENT_TOO_LARGE = "ElementTooLarge";
  /** The token budget ({@code withTokenBudget}) was spent before the element was sent. */
  public static final String BUDGET_EXHAUSTED = "BudgetExhausted";
  /** Every attempt killed (or hung) the worker: a poison element, isolated by bisection. */
  public static final String WORKER_CRASHED = "WorkerCrashed";
  /** The worker's answer does not fit the output schema's type. */
  public static final String OUTPUT_TYPE = "OutputTypeError";
  /** The handler broke on a batch that held only this element. */
  public static final String HANDLER_ERROR = "HandlerError";
  /** An example lacks a field the program or its metric needs (null or missing); it was not used. */
  public static final String MISSING_FIELD = "MissingField";
  /** An example's field holds a value of another type than the field's; it was not used. */
  public static final String FIELD_TYPE = "FieldTypeError";
  /** The worker ended the request without a result for this element (a broken promise). */
  public static final String MISSING_RESULT = "MissingResult";

  /** The schema of failure rows. */
  public static final Schema SCHEMA =
      Schema.builder()
          .addStringField("element")
          .addStringField("error_type")
          .addStringField("message")
          .addInt32Field("attempts")
          .addNullableField("worker", Schema.FieldType.STRING)
          .build();

  private Failures() {}

  /** A failure row. */
  public static Row row(String elementJson, String type, String message, int attempts, String worker) {
    return Row.withSchema(SCHEMA)
        .addValues(elementJson, type == null ? "Error" : type, message == null ? "" : message, attempts, worker)
        .build();
  }
}
