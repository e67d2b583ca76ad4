package org.dspex.beam.transforms;

import static org.dspex.beam.transforms.config.Checks.check;

import com.google.auto.value.AutoValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.errorhandling.BadRecord;
import org.apache.beam.sdk.transforms.errorhandling.ErrorHandler;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.transforms.batching.PredictClient;
import org.dspex.beam.transforms.config.ExecutionSettings;
import org.dspex.beam.transforms.config.LmSettings;
import org.dspex.beam.transforms.config.ProgramSettings;
import org.dspex.beam.transforms.input.InputRows;
import org.dspex.beam.transforms.signature.FieldType;
import org.dspex.beam.transforms.signature.Signature;
import org.dspex.beam.transforms.signature.SignatureField;

/**
 * Runs a DSPy program on every element: a {@code dspy.Predict} (or {@code ChainOfThought}) built
 * from a signature string, or any DSPy module built by a factory function. Java owns the pipeline;
 * the program runs in Python worker processes that the transform starts, feeds in batches and
 * supervises.
 *
 * <h3>Usage</h3>
 *
 * <pre>{@code
 * PCollection<Row> questions = ...;   // fields: question STRING, context ARRAY<STRING>, id INT64
 *
 * DSPexResult result = questions.apply(
 *     DSPexPredict.of("question, context: list[str] -> answer, confidence: float")
 *         .withModel("openai/gpt-4o-mini")
 *         .withApiKeyEnv("OPENAI_API_KEY")        // the NAME of the variable; its value never leaves the worker machine
 *         .withTemperature(0.0)
 *         .withThreads(16)                        // LM calls in flight per worker
 *         .withMaxLmCallsPerSecond(20)            // per JVM
 *         .withTokenBudget(2_000_000));
 *
 * // question, context, id, answer STRING, confidence DOUBLE
 * PCollection<Row> answers = result.output();
 *
 * // element (JSON), error_type, message, attempts, worker: enough to replay
 * result.failures().apply(ToJson.of()).apply(TextIO.write().to("gs://bucket/failed"));
 * }</pre>
 *
 * <p>A program of your own, with its saved state:
 *
 * <pre>{@code
 * DSPexPredict.ofProgram("my_pkg.qa:build")            // a function returning a dspy.Module
 *     .withProgramState("/models/qa.json")
 *     .withPythonPath("/opt/my_pkg")
 *     .withModel("openai/gpt-4o-mini")
 *     .withOutputSchema(Schema.builder().addNullableField("answer", FieldType.STRING).build());
 * }</pre>
 *
 * <h3>Input</h3>
 *
 * <ul>
 *   <li>{@code PCollection<Row>}, or elements of any type with a Beam schema: fields are matched to
 *       the signature's inputs by name; the output row carries every input field;
 *   <li>{@code PCollection<String>} for a signature with one input: the output row has that field;
 *   <li>{@code PCollection<KV<K, String>>}, one input: the output row starts with a {@code key}
 *       field of K's Beam type (String, Long, Integer, Double, Boolean, byte[]; map other keys to
 *       one of these first).
 * </ul>
 *
 * <p>A signature input that the input lacks fails when the pipeline is built, naming the field and
 * the input's fields.
 *
 * <h3>Output</h3>
 *
 * <p>{@link DSPexResult#output()}: rows of the input's fields then the signature's outputs, typed
 * {@code str} STRING, {@code int} INT64, {@code float} DOUBLE, {@code bool} BOOLEAN, {@code
 * list[str]} ARRAY&lt;STRING&gt;, {@code list[int]} / {@code list[float]} / {@code list[bool]} arrays of
 * INT64 / DOUBLE / BOOLEAN, {@code Literal[...]} STRING (outputs are nullable: an LM may leave one
 * out). For {@link #ofProgram} the outputs come from {@link #withOutputSchema}, or, without it,
 * from the program itself: {@code expand} then starts one worker on the machine that builds the
 * pipeline, sets the program up, reads its output fields and stops it (so that machine needs the
 * Python environment and the LM configuration too; {@link #withOutputSchema} avoids that).
 *
 * <h3>Failures</h3>
 *
 * <p>Every element ends in exactly one of {@code output()} and {@link DSPexResult#failures()}:
 * an LM error or unparseable answer fails that element only; an element larger than {@link
 * #withMaxElementBytes} is not sent; an element that kills its worker every time is isolated by
 * splitting its batch and fails alone after {@link #withMaxAttempts} sends, while the rest of its
 * batch succeeds. Results streamed back before a worker died are kept: the retry sends only the
 * unfinished elements, so no LM call is paid twice for an answered element. With {@link
 * #withBadRecordErrorHandler} failures go to that handler instead:
 *
 * <pre>{@code
 * try (BadRecordErrorHandler<?> errors =
 *     pipeline.registerBadRecordErrorHandler(new WriteToDeadLetterTable())) {
 *   questions.apply(DSPexPredict.of("question -> answer").withModel(m).withBadRecordErrorHandler(errors));
 * }
 * }</pre>
 *
 * <p>When no worker can start (no interpreter, a missing package, a program that fails to load,
 * a crash loop) the bundle fails with the reason, for the runner to retry or report.
 *
 * <h3>Unbounded input</h3>
 *
 * <p>A bounded input is batched per bundle and flushed at the end of each bundle, each result in
 * its element's window with its timestamp. An unbounded input is batched by {@code
 * GroupIntoBatches} ({@link #withMaxBatchSize}, {@link #withMaxBufferingDuration}), so a slow
 * stream gets its answers within the buffering duration; results then carry their batch's timestamp.
 *
 * <h3>Cost control</h3>
 *
 * <p>{@link #withMaxLmCallsPerSecond} and {@link #withTokenBudget} are per JVM (one per worker
 * machine on a cluster: divide by the number of workers). The rate is enforced in Java by admitting
 * elements into requests (one element, one LM call for a {@code Predict}; an answer from DSPy's
 * cache still counts as admitted); the budget counts the tokens the worker reports per element.
 * Once it is spent, remaining elements go to the failures as {@code BudgetExhausted} and the job
 * completes; requests already in flight finish, so it may be overspent by one batch per DoFn
 * instance.
 *
 * <h3>Identical inputs</h3>
 *
 * <p>Elements whose input fields are equal are sent once per JVM and every one of them gets the
 * answer (or the failure) of the first, counted by the metric {@code dspex/dedup_hits}; the
 * outcomes of the last {@link #DEFAULT_DEDUP_CAPACITY} distinct inputs are kept for it ({@link
 * #withDeduplicationCapacity}). On a cluster that is once per machine. {@link #withDeduplication}
 * {@code (false)} sends every element, e.g. for a program whose LM samples at a temperature and
 * whose every answer is wanted. Bounded input only; unbounded input is sent as it comes.
 *
 * <p>{@link #withBatchApi} sends the LM calls through the provider's Batch API at half the price,
 * answered within its completion window instead of seconds (see {@link BatchApi}).
 *
 * <h3>Metrics</h3>
 *
 * <p>Beam metrics in namespace {@code dspex}: see {@link org.dspex.beam.transforms.metrics.DSPexMetrics}.
 */
@AutoValue
public abstract class DSPexPredict extends DSPexProgramTransform<DSPexPredict> {
  private static final long serialVersionUID = 1L;

  /** LM calls in flight per worker. */
  public static final int DEFAULT_THREADS = 8;
  /** Distinct inputs whose outcomes identical elements copy, per JVM, by default. */
  public static final int DEFAULT_DEDUP_CAPACITY = 10_000;
  /** The output field {@link #withChainOfThought} adds, first, holding the LM's reasoning. */
  public static final String REASONING_FIELD = "reasoning";
  /** Whether DSPy's LM cache is on. */
  public static final boolean DEFAULT_CACHE = true;

  @Override
  abstract ProgramSettings programSettings();

  private @Nullable String signature() {
    return programSettings().signature();
  }

  private @Nullable String program() {
    return programSettings().program();
  }

  private boolean chainOfThought() {
    return programSettings().chainOfThought();
  }

  @Override
  abstract LmSettings lm();

  /** The LM's model, or null (with a factory). */
  @Nullable String model() {
    return lm().model();
  }

  @Override
  abstract @Nullable String apiKeyEnv();

  abstract int threads();

  abstract double maxLmCallsPerSecond();

  abstract long tokenBudget();

  abstract int dedupCapacity();

  abstract @Nullable Schema outputSchema();

  abstract @Nullable ErrorHandler<BadRecord, ?> badRecordErrorHandler();

  abstract ExecutionSettings execution();

  /** Batch mode's settings, or null: every LM call live. */
  abstract @Nullable BatchApi batchApi();

  abstract String setupKind();

  abstract String command();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setProgramSettings(ProgramSettings p);

    abstract Builder setLm(LmSettings l);

    abstract Builder setApiKeyEnv(@Nullable String s);

    abstract Builder setThreads(int n);

    abstract Builder setMaxLmCallsPerSecond(double d);

    abstract Builder setTokenBudget(long n);

    abstract Builder setDedupCapacity(int n);

    abstract Builder setOutputSchema(@Nullable Schema s);

    abstract Builder setBadRecordErrorHandler(@Nullable ErrorHandler<BadRecord, ?> h);

    abstract Builder setExecution(ExecutionSettings s);

    abstract Builder setBatchApi(@Nullable BatchApi b);

    abstract Builder setSetupKind(String s);

    abstract Builder setCommand(String s);

    abstract DSPexPredict build();
  }

  private static Builder defaults() {
    return new AutoValue_DSPexPredict.Builder()
        .setLm(LmSettings.defaults().withCache(DEFAULT_CACHE))
        .setThreads(DEFAULT_THREADS)
        .setMaxLmCallsPerSecond(0)
        .setTokenBudget(0)
        .setDedupCapacity(DEFAULT_DEDUP_CAPACITY)
        .setExecution(ExecutionSettings.defaults())
        .setSetupKind("predict")
        .setCommand("predict");
  }

  /**
   * A {@code dspy.Predict} of {@code signature}, e.g. {@code "question, context: list[str] -> answer,
   * confidence: float"} (see {@link Signature} for the grammar; parsed now, so a bad one fails here).
   */
  public static DSPexPredict of(String signature) {
    return defaults().setProgramSettings(ProgramSettings.ofSignature(signature)).build();
  }

  /** The module a Python function builds: {@code "module:function"}, called with no arguments. */
  public static DSPexPredict ofProgram(String factory) {
    return defaults().setProgramSettings(ProgramSettings.ofProgram(factory)).build();
  }

  /** The signature, or null for a program. */
  public @Nullable Signature getSignature() {
    return signature() == null ? null : Signature.parse(signature());
  }

  /** LM calls in flight per worker (default {@value #DEFAULT_THREADS}). */
  @Override
  public DSPexPredict withThreads(int n) {
    check(n > 0, "withThreads: must be positive, was %s", n);
    return toBuilder().setThreads(n).build();
  }

  /** Elements (LM calls) admitted per second, per JVM (default: no limit). */
  public DSPexPredict withMaxLmCallsPerSecond(double rate) {
    check(rate > 0 && !Double.isInfinite(rate), "withMaxLmCallsPerSecond: must be positive, was %s", rate);
    return toBuilder().setMaxLmCallsPerSecond(rate).build();
  }

  /** Prompt plus completion tokens the transform may spend, per JVM (default: no budget). */
  public DSPexPredict withTokenBudget(long tokens) {
    check(tokens > 0, "withTokenBudget: must be positive, was %s", tokens);
    return toBuilder().setTokenBudget(tokens).build();
  }

  /**
   * Whether elements with equal input fields are sent once and share the outcome (default true;
   * see the class documentation).
   */
  public DSPexPredict withDeduplication(boolean enabled) {
    return toBuilder().setDedupCapacity(enabled ? DEFAULT_DEDUP_CAPACITY : 0).build();
  }

  /**
   * Distinct inputs whose outcomes later identical elements copy, per JVM (default {@value
   * #DEFAULT_DEDUP_CAPACITY}); an input seen again after that many others is sent again (and, with
   * DSPy's cache on, answered from it).
   */
  public DSPexPredict withDeduplicationCapacity(int n) {
    check(n > 0, "withDeduplicationCapacity: must be positive (withDeduplication(false) turns it off), was %s", n);
    return toBuilder().setDedupCapacity(n).build();
  }

  /**
   * The outputs of an {@link #ofProgram} program, as a schema of the field types listed in the class
   * documentation (default: read from the program at expand time). Every input field is then sent
   * to the worker, which passes the program the fields it takes.
   */
  public DSPexPredict withOutputSchema(Schema outputs) {
    check(outputs != null && outputs.getFieldCount() > 0, "withOutputSchema: must have fields, was %s", outputs);
    return toBuilder().setOutputSchema(outputs).build();
  }

  /**
   * Sends the LM calls through the provider's Batch API (default: none, every call live): half the
   * price, answers within the provider's window instead of seconds. See {@link BatchApi} for how it
   * runs, what it fails with, and its settings:
   *
   * <pre>{@code
   * DSPexPredict.of("question -> answer").withModel("openai/gpt-4o-mini").withApiKeyEnv("OPENAI_API_KEY")
   *     .withBatchApi(BatchApi.openAi().withStateFile("/data/out.batches.json"));
   * }</pre>
   *
   * <p>In batch mode a request to a worker carries up to {@link BatchApi#withMaxRequestsPerBatch}
   * elements (not {@link #withMaxBatchSize}'s), and the {@link #withRequestTimeout request timeout}
   * grows by the batches' longest wait.
   */
  public DSPexPredict withBatchApi(BatchApi settings) {
    check(settings != null, "withBatchApi: must not be null");
    return toBuilder().setBatchApi(settings).build();
  }

  /** The worker configuration: in batch mode, with a request timeout that outlasts the batches' wait. */
  @Override
  public WorkerConfig workerConfig() {
    WorkerConfig c = super.workerConfig();
    return batchApi() == null ? c : c.withRequestTimeout(batchApi().requestTimeout(c.requestTimeout()));
  }

  /** The execution settings requests are batched with: in batch mode, a batch's worth per request. */
  ExecutionSettings batching() {
    return batchApi() == null ? execution() : execution().withMaxBatchSize(batchApi().maxRequestsPerBatch());
  }

  @Override
  DSPexPredict withProgramSettings(ProgramSettings settings) {
    return toBuilder().setProgramSettings(settings).build();
  }

  @Override
  DSPexPredict withLm(LmSettings settings) {
    return toBuilder().setLm(settings).build();
  }

  @Override
  DSPexPredict withExecution(ExecutionSettings settings) {
    return toBuilder().setExecution(settings).build();
  }

  @Override
  DSPexPredict withBadRecordErrorHandlerUnchecked(ErrorHandler<BadRecord, ?> handler) {
    return toBuilder().setBadRecordErrorHandler(handler).build();
  }

  @Override
  DSPexPredict withApiKeyEnvUnchecked(String variableName) {
    return toBuilder().setApiKeyEnv(variableName).setLm(lm().withApiKeyEnv(variableName)).build();
  }

  /** Test seam: another handler implementing the predict contract, from these modules. */
  DSPexPredict withHandler(String kind, String commandName, String... modules) {
    return toBuilder().setSetupKind(kind).setCommand(commandName)
        .setExecution(execution().withHandlerModules(modules)).build();
  }

  /**
   * The {@code setup} arguments of the program (docs/protocol.md, {@code predict}); no secret: only
   * the key's variable name.
   */
  @Override
  Map<String, Object> setupArgs() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("kind", setupKind());
    programSettings().putSetupArgs(a);
    a.put("lm", lm().setupMap());
    a.put("threads", threads());
    if (batchApi() != null) {
      a.put("batch_api", batchApi().setupMap());
    }
    return a;
  }

  @Override
  public DSPexResult expand(PCollection<?> input) {
    check(lm().configured(),
        "DSPexPredict: no LM configured; call withModel(\"provider/model\") or withLmFactory(\"module:function\")");
    programSettings().checkCombination("DSPexPredict");
    Signature sig = signature() != null ? Signature.parse(signature()) : null;
    List<String> inputNames;
    List<SignatureField> outputs;
    if (sig != null) {
      inputNames = sig.inputNames();
      outputs = new ArrayList<>(sig.outputs());
      if (chainOfThought()) {
        // dspy.ChainOfThought answers a `reasoning` field before the signature's outputs.
        outputs.add(0, new SignatureField(REASONING_FIELD, FieldType.STR));
      }
    } else if (outputSchema() != null) {
      inputNames = null;
      outputs = fieldsOf(outputSchema());
    } else {
      Signature described = ProgramIntrospection.describe(workerConfig(), program());
      inputNames = described.inputNames();
      outputs = described.outputs();
    }
    String textField = inputNames != null && inputNames.size() == 1 ? inputNames.get(0) : null;
    if (InputRows.isText(input) && textField == null) {
      throw new IllegalArgumentException(
          "DSPexPredict: a PCollection of String or KV<K, String> needs a signature with one input;"
              + " this one has " + (inputNames == null ? "the program's inputs" : inputNames)
              + ": give rows with those fields");
    }
    PCollection<Row> rows = InputRows.toRows(input, textField == null ? "text" : textField);
    if (inputNames == null) {
      // A program with a given output schema: every input field goes to the program.
      inputNames = rows.getSchema().getFieldNames();
    }
    InputRows.checkHasFields(rows.getSchema(), inputNames, "DSPexPredict signature '"
        + (sig != null ? sig.text() : program()) + "'");
    Schema modelOutputs = Signature.ofFields(List.of(), outputs).outputSchema();
    PredictClient client = new PredictClient(workerConfig(), inputNames, outputs, command());
    return Expansion.apply(rows, client, modelOutputs, batching(),
        new Expansion.Cost(tokenBudget(), maxLmCallsPerSecond(), dedupCapacity()), badRecordErrorHandler(),
        "DSPexPredict");
  }

  /** Signature fields of a user-given output schema, each of the type its Beam type stands for. */
  private static List<SignatureField> fieldsOf(Schema s) {
    List<SignatureField> l = new ArrayList<>();
    for (Schema.Field f : s.getFields()) {
      try {
        l.add(new SignatureField(f.getName(), FieldType.ofBeamType(f.getName(), f.getType())));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("withOutputSchema: " + e.getMessage(), e);
      }
    }
    return l;
  }

}
