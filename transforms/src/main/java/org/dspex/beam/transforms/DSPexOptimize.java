package org.dspex.beam.transforms;

import static org.dspex.beam.transforms.config.Checks.check;
import static org.dspex.beam.transforms.config.Checks.nonEmpty;

import com.google.auto.value.AutoValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.errorhandling.BadRecord;
import org.apache.beam.sdk.transforms.errorhandling.ErrorHandler;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.transforms.config.ExecutionSettings;
import org.dspex.beam.transforms.config.LmSettings;
import org.dspex.beam.transforms.config.ProgramSettings;
import org.dspex.beam.transforms.failures.Failures;
import org.dspex.beam.transforms.input.InputRows;
import org.dspex.beam.transforms.optimize.ExampleCheck;
import org.dspex.beam.transforms.optimize.LabelFields;
import org.dspex.beam.transforms.optimize.OptimizeFn;
import org.dspex.beam.transforms.optimize.OptimizeProgressListener;
import org.dspex.beam.transforms.optimize.OptimizeResult;
import org.dspex.beam.connector.protocol.ProtocolSettings;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.transforms.signature.Signature;
import org.dspex.beam.transforms.signature.SignatureField;

/**
 * Compiles a DSPy program with one of DSPy's optimizers over examples the pipeline built, and
 * outputs the compiled program, ready for {@link DSPexPredict#withProgramState}. The examples (the
 * program's input fields plus its label fields, e.g. what {@code dspex trainset} writes) are
 * gathered to one Python worker and shipped to it in one request; the worker runs the optimizer
 * and streams its progress back.
 *
 * <h3>Usage</h3>
 *
 * <pre>{@code
 * PCollection<Row> examples = ...;     // fields: question STRING, answer STRING
 *
 * DSPexResult result = examples.apply(
 *     DSPexOptimize.of("question -> answer")
 *         .withOptimizer("BootstrapFewShot")
 *         .withOptimizerOption("max_bootstrapped_demos", 4)
 *         .withMetric("exact")                      // or "contains", or "my_pkg.metrics:f1"
 *         .withModel("openai/gpt-4o-mini")          // the student
 *         .withTeacherModel("openai/gpt-4o")        // bootstraps the demos (default: the student)
 *         .withApiKeyEnv("OPENAI_API_KEY")
 *         .withDevFraction(0.2)                     // scored before and after on 20% held out
 *         .withSeed(7));
 *
 * // one row: program_json, dev_score_before, dev_score_after, lm_calls, ... (OptimizeResult)
 * result.output().apply(MapElements.into(TypeDescriptors.strings())
 *         .via(r -> r.getString(OptimizeResult.PROGRAM_JSON)))
 *     .apply(TextIO.write().to("gs://bucket/qa").withSuffix(".json").withoutSharding());
 *
 * // examples that could not be used: MissingField, FieldTypeError
 * result.failures().apply(...);
 *
 * // later: every record through the compiled program
 * records.apply(DSPexPredict.of("question -> answer").withProgramState("/models/qa.json")
 *     .withModel("openai/gpt-4o-mini"));
 * }</pre>
 *
 * <h3>Examples</h3>
 *
 * <p>Rows (or elements with a Beam schema) holding the program's inputs and label fields: the
 * program's outputs that the input has ({@link #withLabelFields} to choose). A missing input or
 * label field fails when the pipeline is built. An example whose field is null goes to {@link
 * DSPexResult#failures()} as {@value Failures#MISSING_FIELD}, one whose value is of another type
 * than the field's as {@value Failures#FIELD_TYPE}; the others are ordered by a hash of their
 * content and {@link #withSeed} (so a compile does not depend on the runner's order) and the dev
 * examples split off ({@link #withDevFraction}, or {@link #withDevSet}). Without any usable
 * example the output is empty.
 *
 * <h3>How the examples travel</h3>
 *
 * <p>All of them to one worker, in one request: with the default format (AUTO) as Arrow from
 * 10,000 examples, and as a REF file in the spill directory (shared memory, no copy through the
 * pipe) from 64 MiB or whenever the body exceeds the frame limit (a million short examples are
 * about 400 MB). The worker holds them as {@code dspy.Example}s; see the README's
 * optimize-transfer benchmark for the numbers behind these defaults.
 *
 * <h3>Progress and timeouts</h3>
 *
 * <p>The worker compiles on a thread of its own and streams an event per bootstrapped demo, per
 * trial (a candidate program scored) and per phase, and the counts at most once a second while LM
 * calls go on: {@link #withProgressListener} receives them (default: INFO log lines). It answers
 * health pings meanwhile, so {@link #withStallTimeout} only catches a stopped worker. Each event
 * restarts the clock of {@link #withRequestTimeout} (default 5 min), which thus bounds the longest
 * stretch without progress: one LM call, or a phase that calls no LM (an optimizer computing for
 * minutes between calls would need a longer one). {@link #withCompileTimeout} bounds the whole
 * compile (default none): past it the worker stops the optimizer at its next LM or metric call
 * and the bundle fails.
 *
 * <h3>Failures</h3>
 *
 * <p>A compile that fails (the optimizer or the metric raised, the compile timeout, no worker)
 * fails its bundle with a {@link org.dspex.beam.transforms.optimize.CompileFailedException} whose
 * message names the worker and the cause; it is not compiled again by DSPex (its LM calls were paid).
 * LM calls and tokens count in the {@code dspex} metrics {@code lm_calls}, {@code
 * lm_prompt_tokens}, {@code lm_completion_tokens} as the compile goes, and in the output row.
 */
@AutoValue
public abstract class DSPexOptimize extends DSPexProgramTransform<DSPexOptimize> {
  private static final long serialVersionUID = 1L;

  /** DSPy's optimizers, by class name: what {@link #withOptimizer} takes (case-insensitive). */
  public static final List<String> OPTIMIZERS =
      List.of("LabeledFewShot", "BootstrapFewShot", "BootstrapFewShotWithRandomSearch", "MIPROv2");
  /** Short names the {@code dspex optimize} command also takes for {@link #OPTIMIZERS}. */
  public static final Map<String, String> OPTIMIZER_ALIASES = Map.of("labeled", "LabeledFewShot",
      "bootstrap", "BootstrapFewShot", "random-search", "BootstrapFewShotWithRandomSearch", "mipro", "MIPROv2");
  /** The built-in metrics (besides {@code module:function}). */
  public static final List<String> METRICS = List.of("exact", "contains");
  public static final String DEFAULT_OPTIMIZER = "BootstrapFewShot";
  public static final String DEFAULT_METRIC = "exact";
  /** Share of the examples held out to score the program before and after. */
  public static final double DEFAULT_DEV_FRACTION = 0.2;
  /** LM calls in flight during a compile (the optimizer's and the evaluations' threads). */
  public static final int DEFAULT_THREADS = 8;
  /** Examples bodies from this size on travel as a REF file in the spill directory (bench optimize-transfer). */
  public static final long DEFAULT_REF_MIN_BYTES = ProtocolSettings.DEFAULT_REF_MIN_BYTES;

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


  abstract String optimizer();

  abstract Map<String, Object> optimizerOptions();

  abstract String metric();

  abstract @Nullable Double metricThreshold();

  abstract @Nullable List<String> labelFields();

  @Override
  abstract LmSettings lm();

  abstract LmSettings teacher();

  abstract double devFraction();

  abstract @Nullable PCollection<?> devSet();

  abstract long seed();

  abstract int threads();

  abstract @Nullable Duration compileTimeout();

  abstract long refMinBytes();

  abstract OptimizeProgressListener progressListener();

  @Override
  abstract @Nullable String apiKeyEnv();

  @Override
  abstract @Nullable ErrorHandler<BadRecord, ?> badRecordErrorHandler();

  @Override
  abstract ExecutionSettings execution();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setProgramSettings(ProgramSettings p);

    abstract Builder setOptimizer(String s);

    abstract Builder setOptimizerOptions(Map<String, Object> m);

    abstract Builder setMetric(String s);

    abstract Builder setMetricThreshold(@Nullable Double d);

    abstract Builder setLabelFields(@Nullable List<String> l);

    abstract Builder setLm(LmSettings l);

    abstract Builder setTeacher(LmSettings l);

    abstract Builder setDevFraction(double d);

    abstract Builder setDevSet(@Nullable PCollection<?> p);

    abstract Builder setSeed(long n);

    abstract Builder setThreads(int n);

    abstract Builder setCompileTimeout(@Nullable Duration d);

    abstract Builder setRefMinBytes(long n);

    abstract Builder setProgressListener(OptimizeProgressListener l);

    abstract Builder setApiKeyEnv(@Nullable String s);

    abstract Builder setBadRecordErrorHandler(@Nullable ErrorHandler<BadRecord, ?> h);

    abstract Builder setExecution(ExecutionSettings s);

    abstract DSPexOptimize build();
  }

  private static Builder defaults() {
    return new AutoValue_DSPexOptimize.Builder()
        .setOptimizer(DEFAULT_OPTIMIZER)
        .setOptimizerOptions(Map.of())
        .setMetric(DEFAULT_METRIC)
        .setLm(LmSettings.defaults())
        .setTeacher(LmSettings.defaults())
        .setDevFraction(DEFAULT_DEV_FRACTION)
        .setSeed(0)
        .setThreads(DEFAULT_THREADS)
        .setRefMinBytes(DEFAULT_REF_MIN_BYTES)
        .setProgressListener(OptimizeProgressListener.logging())
        .setExecution(ExecutionSettings.defaults());
  }

  /** Compiles a {@code dspy.Predict} of {@code signature} (parsed now, so a bad one fails here). */
  public static DSPexOptimize of(String signature) {
    return defaults().setProgramSettings(ProgramSettings.ofSignature(signature)).build();
  }

  /** Compiles the module a Python function builds: {@code "module:function"}. */
  public static DSPexOptimize ofProgram(String factory) {
    return defaults().setProgramSettings(ProgramSettings.ofProgram(factory)).build();
  }

  /** The optimizer's class name as {@link #withOptimizer} resolved it. */
  public String getOptimizer() {
    return optimizer();
  }

  /**
   * The optimizer, by DSPy's class name, case-insensitive: one of {@link #OPTIMIZERS} (default
   * {@value #DEFAULT_OPTIMIZER}). {@code MIPROv2} needs the Python package {@code optuna} in the
   * workers' environment.
   */
  public DSPexOptimize withOptimizer(String name) {
    nonEmpty(name, "withOptimizer");
    for (String o : OPTIMIZERS) {
      if (o.equalsIgnoreCase(name)) {
        return toBuilder().setOptimizer(o).build();
      }
    }
    throw new IllegalArgumentException("withOptimizer: must be one of " + String.join(", ", OPTIMIZERS)
        + " (any case), was '" + name + "'");
  }

  /**
   * One option of the optimizer's constructor or {@code compile}, by its DSPy name, e.g. {@code
   * max_bootstrapped_demos}, {@code num_candidate_programs}, MIPROv2's {@code auto} (default: DSPy's
   * defaults). The worker checks the name when it sets up (an unknown one fails, listing the
   * optimizer's options); what DSPex sets itself (metric, teacher, seed, threads) is refused there.
   */
  public DSPexOptimize withOptimizerOption(String name, Object value) {
    nonEmpty(name, "withOptimizerOption");
    Map<String, Object> m = new LinkedHashMap<>(optimizerOptions());
    m.put(name, org.dspex.beam.transforms.failures.ElementJson.plain(value));
    return toBuilder().setOptimizerOptions(m).build();
  }

  /** Several {@link #withOptimizerOption}s. */
  public DSPexOptimize withOptimizerOptions(Map<String, ?> options) {
    DSPexOptimize t = this;
    for (Map.Entry<String, ?> e : LmSettings.plainCopy(options, "withOptimizerOptions").entrySet()) {
      t = t.withOptimizerOption(e.getKey(), e.getValue());
    }
    return t;
  }

  /**
   * The metric: {@code "exact"} (DSPy's normalised exact match of every label field), {@code
   * "contains"} (each label, normalised, occurs in the prediction), or a DSPy metric {@code
   * "module:function"} called as {@code function(example, pred, trace=None)} (default {@value
   * #DEFAULT_METRIC}). A metric that raises fails the compile, naming the example.
   */
  public DSPexOptimize withMetric(String metric) {
    nonEmpty(metric, "withMetric");
    check(METRICS.contains(metric) || metric.matches("[A-Za-z_][\\w.]*:[A-Za-z_]\\w*"),
        "withMetric: must be exact, contains or 'module:function', was '%s'", metric);
    return toBuilder().setMetric(metric).build();
  }

  /** A numeric metric result accepts a bootstrapped demo from this score on (default: any truthy result). */
  public DSPexOptimize withMetricThreshold(double threshold) {
    check(!Double.isNaN(threshold) && !Double.isInfinite(threshold), "withMetricThreshold: must be finite, was %s",
        threshold);
    return toBuilder().setMetricThreshold(threshold).build();
  }

  /** The program's outputs the examples carry and the metric compares (default: its outputs the input has). */
  public DSPexOptimize withLabelFields(String... fields) {
    check(fields != null && fields.length > 0, "withLabelFields: give at least one field");
    for (String f : fields) {
      nonEmpty(f, "withLabelFields");
    }
    return toBuilder().setLabelFields(List.of(fields)).build();
  }

  /** DSPy's LM cache for both LMs, student and teacher (default on). */
  @Override
  public DSPexOptimize withCache(boolean enabled) {
    return toBuilder().setLm(lm().withCache(enabled)).setTeacher(teacher().withCache(enabled)).build();
  }

  /**
   * The teacher LM, which bootstraps demos and (MIPROv2) proposes instructions (default: the
   * student). Its key's variable is {@link #withTeacherApiKeyEnv}, or the provider's.
   */
  public DSPexOptimize withTeacherModel(String model) {
    return toBuilder().setTeacher(teacher().withModel(model, "withTeacherModel")).build();
  }

  /** The teacher LM's base URL (default: the provider's). */
  public DSPexOptimize withTeacherApiBase(String url) {
    return toBuilder().setTeacher(teacher().withApiBase(url, "withTeacherApiBase")).build();
  }

  /** The NAME of the variable holding the teacher's API key; masked like {@link #withApiKeyEnv}. */
  public DSPexOptimize withTeacherApiKeyEnv(String variableName) {
    nonEmpty(variableName, "withTeacherApiKeyEnv");
    check(variableName.matches("[A-Za-z_][A-Za-z0-9_]*"),
        "withTeacherApiKeyEnv: takes the NAME of an environment variable, was '%s'",
        variableName.length() > 8 ? variableName.substring(0, 4) + "..." : variableName);
    return toBuilder().setTeacher(teacher().withApiKeyEnv(variableName)).build();
  }

  /** The teacher LM's temperature, 0 to 2 (default: DSPy's). */
  public DSPexOptimize withTeacherTemperature(double t) {
    return toBuilder().setTeacher(teacher().withTemperature(t, "withTeacherTemperature")).build();
  }

  /** A Python function {@code "module:function"} returning the teacher's {@code dspy.BaseLM}, with kwargs. */
  public DSPexOptimize withTeacherLmFactory(String factory, Map<String, ?> kwargs) {
    return toBuilder().setTeacher(teacher().withLmFactory(factory, kwargs, "withTeacherLmFactory")).build();
  }

  /**
   * The share of the examples held out as the dev set, which scores the program before and after
   * compiling (default {@value #DEFAULT_DEV_FRACTION}; 0: no dev set, no scores). Ignored with
   * {@link #withDevSet}.
   */
  public DSPexOptimize withDevFraction(double fraction) {
    check(fraction >= 0 && fraction < 1, "withDevFraction: must be within [0, 1), was %s", fraction);
    return toBuilder().setDevFraction(fraction).build();
  }

  /** The dev examples, as a PCollection of the same fields (default: split off by {@link #withDevFraction}). */
  public DSPexOptimize withDevSet(PCollection<?> dev) {
    check(dev != null, "withDevSet: must not be null");
    return toBuilder().setDevSet(dev).build();
  }

  /** Orders the examples and seeds the optimizer (default 0). */
  public DSPexOptimize withSeed(long seed) {
    check(seed >= 0 && seed <= Integer.MAX_VALUE, "withSeed: must be within [0, %s], was %s", Integer.MAX_VALUE, seed);
    return toBuilder().setSeed(seed).build();
  }

  /** LM calls in flight during the compile (default {@value #DEFAULT_THREADS}). */
  @Override
  public DSPexOptimize withThreads(int n) {
    check(n > 0 && n <= 256, "withThreads: must be within [1, 256], was %s", n);
    return toBuilder().setThreads(n).build();
  }

  /** The longest the whole compile may take (default: no limit); see the class documentation. */
  public DSPexOptimize withCompileTimeout(Duration d) {
    check(d != null && !d.isNegative() && !d.isZero(), "withCompileTimeout: must be positive, was %s", d);
    return toBuilder().setCompileTimeout(d).build();
  }

  /**
   * With the default format (AUTO), an examples body of at least this many encoded bytes travels as
   * a REF file in the spill directory instead of a frame through the pipe (default {@value
   * #DEFAULT_REF_MIN_BYTES}, 64 MiB); a body above the frame limit always does.
   */
  public DSPexOptimize withRefMinBytes(long bytes) {
    check(bytes > 0, "withRefMinBytes: must be positive, was %s", bytes);
    return toBuilder().setRefMinBytes(bytes).build();
  }

  /** Receives the compile's progress events (default: INFO log lines). */
  public DSPexOptimize withProgressListener(OptimizeProgressListener listener) {
    check(listener != null, "withProgressListener: must not be null");
    return toBuilder().setProgressListener(listener).build();
  }

  @Override
  DSPexOptimize withProgramSettings(ProgramSettings settings) {
    return toBuilder().setProgramSettings(settings).build();
  }

  @Override
  DSPexOptimize withLm(LmSettings settings) {
    return toBuilder().setLm(settings).build();
  }

  @Override
  DSPexOptimize withExecution(ExecutionSettings settings) {
    return toBuilder().setExecution(settings).build();
  }

  @Override
  DSPexOptimize withBadRecordErrorHandlerUnchecked(ErrorHandler<BadRecord, ?> handler) {
    return toBuilder().setBadRecordErrorHandler(handler).build();
  }

  @Override
  DSPexOptimize withApiKeyEnvUnchecked(String variableName) {
    return toBuilder().setApiKeyEnv(variableName).setLm(lm().withApiKeyEnv(variableName)).build();
  }

  /** Both LMs' key variables are secrets of the workers; the REF threshold is {@link #withRefMinBytes}. */
  @Override
  public WorkerConfig workerConfig() {
    WorkerConfig c = super.workerConfig();
    c = c.withProtocolSettings(c.protocolSettings().withRefMinBytes(refMinBytes()));
    return teacher().apiKeyEnv() == null ? c : c.withSecretEnvNames(teacher().apiKeyEnv());
  }

  @Override
  Map<String, Object> setupArgs() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("kind", "optimize");
    programSettings().putSetupArgs(a);
    a.put("lm", lm().setupMap());
    if (teacher().configured()) {
      a.put("teacher_lm", teacher().setupMap());
    }
    a.put("optimizer", optimizer());
    if (!optimizerOptions().isEmpty()) {
      a.put("optimizer_options", optimizerOptions());
    }
    a.put("metric", metric());
    LmSettings.putIf(a, "metric_threshold", metricThreshold());
    LmSettings.putIf(a, "label_fields", labelFields());
    a.put("seed", seed());
    a.put("threads", threads());
    if (compileTimeout() != null) {
      a.put("compile_timeout_s", compileTimeout().toMillis() / 1000.0);
    }
    return a;
  }

  @Override
  public DSPexResult expand(PCollection<?> input) {
    check(lm().configured(),
        "DSPexOptimize: no LM configured; call withModel(\"provider/model\") or withLmFactory(\"module:function\")");
    programSettings().checkCombination("DSPexOptimize");
    check(!InputRows.isText(input), "DSPexOptimize: examples are rows (input and label fields), not %s",
        input.getCoder());
    check(input.isBounded() == PCollection.IsBounded.BOUNDED,
        "DSPexOptimize: the examples must be a bounded PCollection (a compile needs all of them)");
    Signature sig = signature() != null ? Signature.parse(signature())
        : ProgramIntrospection.describe(workerConfig(), "DSPexOptimize.ofProgram(" + program() + ")");
    List<SignatureField> outputs = new ArrayList<>(sig.outputs());
    if (chainOfThought()) {
      outputs.add(0, new SignatureField(DSPexPredict.REASONING_FIELD,
          org.dspex.beam.transforms.signature.FieldType.STR));
    }
    PCollection<Row> rows = InputRows.toRows(input, "text");
    String what = "DSPexOptimize " + (signature() != null ? "signature '" + sig.text() + "'" : program());
    InputRows.checkHasFields(rows.getSchema(), sig.inputNames(), what);
    List<SignatureField> labels = LabelFields.resolve(labelFields(), outputs, rows.getSchema(), what);
    DSPexOptimize resolved = labelFields() != null ? this : withLabelFields(
        labels.stream().map(SignatureField::name).toArray(String[]::new));
    List<SignatureField> fields = new ArrayList<>(sig.inputs());
    fields.addAll(labels);
    PCollectionTuple train = ExampleCheck.apply(rows, fields, false, "CheckExamples");
    PCollectionList<KV<Integer, KV<Boolean, Row>>> examples = PCollectionList.of(train.get(ExampleCheck.EXAMPLES));
    PCollectionList<Row> failures = PCollectionList.of(train.get(ExampleCheck.FAILURES));
    if (devSet() != null) {
      PCollection<Row> devRows = InputRows.toRows(devSet(), "text");
      InputRows.checkHasFields(devRows.getSchema(), fields.stream().map(SignatureField::name).toList(),
          what + " dev set");
      PCollectionTuple dev = ExampleCheck.apply(devRows, fields, true, "CheckDevExamples");
      examples = examples.and(dev.get(ExampleCheck.EXAMPLES));
      failures = failures.and(dev.get(ExampleCheck.FAILURES));
    }
    PCollection<Row> output = examples.apply("AllExamples", Flatten.pCollections())
        .setCoder(examples.get(0).getCoder())
        .apply("ToOneWorker", GroupByKey.create())
        .apply("Compile", ParDo.of(new OptimizeFn(resolved.workerConfig(), execution().format(), devFraction(), seed(),
            devSet() != null, progressListener())))
        .setRowSchema(OptimizeResult.SCHEMA);
    PCollection<Row> failed = failures.apply("ExampleFailures", Flatten.pCollections()).setRowSchema(Failures.SCHEMA);
    return DSPexResult.of(output, Expansion.routeFailures(failed, badRecordErrorHandler(), "DSPexOptimize"));
  }

  /** The canonical optimizer name for {@code name}: a class name (any case) or an alias of the command. */
  public static String optimizerName(String name) {
    String alias = OPTIMIZER_ALIASES.get(name.toLowerCase(Locale.ROOT));
    if (alias != null) {
      return alias;
    }
    for (String o : OPTIMIZERS) {
      if (o.equalsIgnoreCase(name)) {
        return o;
      }
    }
    throw new IllegalArgumentException("the optimizer must be one of " + String.join(", ", OPTIMIZERS)
        + " (any case) or " + String.join(", ", new java.util.TreeSet<>(OPTIMIZER_ALIASES.keySet())) + ", was '" + name + "'");
  }
}
