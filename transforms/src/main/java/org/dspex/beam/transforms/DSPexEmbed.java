package org.dspex.beam.transforms;

import static org.dspex.beam.transforms.config.Checks.check;
import static org.dspex.beam.transforms.config.Checks.nonEmpty;

import com.google.auto.value.AutoValue;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.errorhandling.BadRecord;
import org.apache.beam.sdk.transforms.errorhandling.ErrorHandler;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.connector.environment.PythonEnvironment;
import org.dspex.beam.transforms.batching.EmbedClient;
import org.dspex.beam.transforms.config.ExecutionSettings;
import org.dspex.beam.transforms.input.InputRows;

/**
 * Embeds a text per element with a sentence-embedding model run by Python workers (a local model,
 * e.g. {@code all-MiniLM-L6-v2}, or an OpenAI-compatible {@code /v1/embeddings} endpoint), adding an
 * {@code embedding} ARRAY&lt;FLOAT&gt; field. Vectors travel back as NumPy float32 matrices.
 *
 * <p>A local model runs on ONNX Runtime: the worker builds the model's ONNX graph from its weights
 * once per machine (float32, the same vectors as sentence-transformers within 1e-5; or int8 with
 * {@link #withPrecision}) and runs each request's texts in sub-batches of similar token length, at
 * most {@link #withModelBatchSize} texts each, on {@link #withThreadsPerWorker} threads.
 *
 * <h3>Usage</h3>
 *
 * <pre>{@code
 * PCollection<KV<String, String>> docs = ...;          // id -> text
 *
 * DSPexResult result = docs.apply(
 *     DSPexEmbed.of("sentence-transformers/all-MiniLM-L6-v2")
 *         .withNormalize(true)
 *         .withMaxBatchSize(256)
 *         .withWorkers(2));
 *
 * PCollection<Row> vectors = result.output();            // key STRING, text STRING, embedding ARRAY<FLOAT>
 * result.failures().apply(...);                          // element (JSON), error_type, message, attempts, worker
 * }</pre>
 *
 * <p>Rows (or schema'd POJOs) are embedded from the field {@link #withTextField} names (default
 * {@value #DEFAULT_TEXT_FIELD}) and keep every field; {@code PCollection<String>} gives rows {@code
 * text, embedding}; {@code PCollection<KV<K, String>>} gives {@code key, text, embedding}.
 *
 * <h3>Failures</h3>
 *
 * <p>Every element ends in exactly one of {@link DSPexResult#output()} and {@link
 * DSPexResult#failures()}: a text the model rejects fails alone; a text larger than {@link
 * #withMaxElementBytes} is not sent; a text that kills its worker each time is isolated by splitting
 * its batch and fails after {@link #withMaxAttempts} sends. {@link #withBadRecordErrorHandler}
 * sends failures to a Beam error handler instead:
 *
 * <pre>{@code
 * try (BadRecordErrorHandler<?> errors = pipeline.registerBadRecordErrorHandler(sink)) {
 *   texts.apply(DSPexEmbed.of(model).withBadRecordErrorHandler(errors));
 * }
 * }</pre>
 *
 * <h3>Metrics</h3>
 *
 * <p>Beam metrics in namespace {@code dspex}: see {@link org.dspex.beam.transforms.metrics.DSPexMetrics}.
 */
@AutoValue
public abstract class DSPexEmbed extends DSPexTransform<DSPexEmbed> {
  private static final long serialVersionUID = 1L;

  /** The input field of rows holding the text. */
  public static final String DEFAULT_TEXT_FIELD = "text";
  /** The output field holding the vector. */
  public static final String EMBEDDING_FIELD = "embedding";
  /**
   * Texts per request to a worker by default (DSPexPredict's is 64): the worker sorts a request's
   * texts by token length before it cuts them into model batches, so a larger request pads less.
   */
  public static final int DEFAULT_MAX_BATCH_SIZE = 256;
  /** The local model's precision by default: the float32 graph. */
  public static final String DEFAULT_PRECISION = "float32";
  /** The precisions {@link #withPrecision} takes. */
  public static final List<String> PRECISIONS = List.of(DEFAULT_PRECISION, "int8");

  abstract @Nullable String model();

  abstract @Nullable Boolean normalize();

  abstract @Nullable Integer modelBatchSize();

  abstract @Nullable String precision();

  abstract @Nullable String backend();

  abstract @Nullable String apiBase();

  abstract @Nullable String apiKeyEnv();

  abstract String textField();

  abstract @Nullable ErrorHandler<BadRecord, ?> badRecordErrorHandler();

  abstract ExecutionSettings execution();

  abstract String setupKind();

  abstract String command();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setModel(@Nullable String s);

    abstract Builder setNormalize(@Nullable Boolean b);

    abstract Builder setModelBatchSize(@Nullable Integer n);

    abstract Builder setPrecision(@Nullable String s);

    abstract Builder setBackend(@Nullable String s);

    abstract Builder setApiBase(@Nullable String s);

    abstract Builder setApiKeyEnv(@Nullable String s);

    abstract Builder setTextField(String s);

    abstract Builder setBadRecordErrorHandler(@Nullable ErrorHandler<BadRecord, ?> h);

    abstract Builder setExecution(ExecutionSettings s);

    abstract Builder setSetupKind(String s);

    abstract Builder setCommand(String s);

    abstract DSPexEmbed build();
  }

  /**
   * Embeds with {@code model}: a model name or path the worker loads (e.g. {@code
   * "sentence-transformers/all-MiniLM-L6-v2"}), or with {@link #withOpenAiBackend} the endpoint's
   * model name.
   */
  public static DSPexEmbed of(String model) {
    return new AutoValue_DSPexEmbed.Builder()
        .setModel(nonEmpty(model, "DSPexEmbed.of"))
        .setTextField(DEFAULT_TEXT_FIELD)
        .setExecution(ExecutionSettings.defaults().withMaxBatchSize(DEFAULT_MAX_BATCH_SIZE))
        .setSetupKind("embed")
        .setCommand("embed")
        .build();
  }

  /** Unit-length vectors (default: the model's own setting). */
  public DSPexEmbed withNormalize(boolean enabled) {
    return toBuilder().setNormalize(enabled).build();
  }

  /**
   * Most texts per forward pass inside the worker (default: the worker's, 32). The worker sorts a
   * request's texts by token length and pads each sub-batch only to its own longest text.
   */
  public DSPexEmbed withModelBatchSize(int n) {
    check(n > 0, "withModelBatchSize: must be positive, was %s", n);
    return toBuilder().setModelBatchSize(n).build();
  }

  /**
   * The local model's precision, one of {@link #PRECISIONS} (default {@value #DEFAULT_PRECISION}):
   * {@code "int8"} runs ONNX Runtime's int8 quantization of the graph, faster, with vectors at a
   * cosine of about 0.99 to the float32 ones (README, "Embeddings").
   */
  public DSPexEmbed withPrecision(String precision) {
    check(PRECISIONS.contains(precision), "withPrecision: must be one of %s, was %s", PRECISIONS,
        precision == null ? null : "'" + precision + "'");
    return toBuilder().setPrecision(precision).build();
  }

  /**
   * Threads each worker runs the model on (default max(1, cores / {@link #withWorkers workers}), so
   * that N workers never start more threads than the machine has cores, nor fewer than one each).
   */
  public DSPexEmbed withThreadsPerWorker(int n) {
    return withExecution(execution().withThreadsPerWorker(n));
  }

  /**
   * Embeds through an OpenAI-compatible {@code /v1/embeddings} endpoint at {@code apiBase} instead of
   * a local model (default: local).
   */
  public DSPexEmbed withOpenAiBackend(String apiBase) {
    nonEmpty(apiBase, "withOpenAiBackend");
    check(apiBase.startsWith("http://") || apiBase.startsWith("https://"),
        "withOpenAiBackend: must be an http(s) URL, was '%s'", apiBase);
    return toBuilder().setBackend("openai").setApiBase(apiBase).build();
  }

  /** The field of input rows holding the text (default {@value #DEFAULT_TEXT_FIELD}). */
  public DSPexEmbed withTextField(String field) {
    return toBuilder().setTextField(nonEmpty(field, "withTextField")).build();
  }

  /** The local model needs only the embedding stack; the OpenAI backend goes through DSPy. */
  @Override
  PythonEnvironment.Extra pythonExtra() {
    return backend() == null ? PythonEnvironment.Extra.EMBED : PythonEnvironment.Extra.PREDICT;
  }

  @Override
  DSPexEmbed withExecution(ExecutionSettings settings) {
    return toBuilder().setExecution(settings).build();
  }

  @Override
  DSPexEmbed withBadRecordErrorHandlerUnchecked(ErrorHandler<BadRecord, ?> handler) {
    return toBuilder().setBadRecordErrorHandler(handler).build();
  }

  @Override
  DSPexEmbed withApiKeyEnvUnchecked(String variableName) {
    return toBuilder().setApiKeyEnv(variableName).build();
  }

  /** Test seam: another handler implementing the embed contract, from these modules. */
  DSPexEmbed withHandler(String kind, String commandName, String... modules) {
    return toBuilder().setSetupKind(kind).setCommand(commandName)
        .setExecution(execution().withHandlerModules(modules)).build();
  }

  @Override
  Map<String, Object> setupArgs() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("kind", setupKind());
    a.put("model", model());
    if (normalize() != null) {
      a.put("normalize", normalize());
    }
    if (modelBatchSize() != null) {
      a.put("batch_size", modelBatchSize());
    }
    if (precision() != null) {
      a.put("precision", precision());
    }
    if (backend() != null) {
      a.put("backend", backend());
      a.put("api_base", apiBase());
    }
    if (apiKeyEnv() != null) {
      a.put("api_key_env", apiKeyEnv());
    }
    return a;
  }

  @Override
  public DSPexResult expand(PCollection<?> input) {
    check(precision() == null || backend() == null,
        "DSPexEmbed: withPrecision applies to the local model, not to withOpenAiBackend");
    PCollection<Row> rows = InputRows.toRows(input, textField());
    InputRows.checkHasFields(rows.getSchema(), List.of(textField()), "DSPexEmbed (withTextField)");
    Schema.FieldType t = rows.getSchema().getField(textField()).getType();
    check(t.getTypeName() == Schema.TypeName.STRING,
        "DSPexEmbed: text field '%s' must be STRING, is %s", textField(), t);
    Schema modelOutputs = Schema.builder()
        .addField(EMBEDDING_FIELD, Schema.FieldType.array(Schema.FieldType.FLOAT))
        .build();
    EmbedClient client = new EmbedClient(workerConfig(), textField(), command(), normalize());
    return Expansion.apply(rows, client, modelOutputs, execution(), Expansion.Cost.NONE, badRecordErrorHandler(),
        "DSPexEmbed");
  }
}
