package org.dspex.beam.transforms;

import java.util.Map;
import org.dspex.beam.transforms.config.LmSettings;
import org.dspex.beam.transforms.config.ProgramSettings;
import org.dspex.beam.transforms.signature.Signature;

/**
 * What {@link DSPexPredict} and {@link DSPexOptimize} share on top of {@link DSPexTransform}: the
 * DSPy program they set up (a signature or a {@code module:factory}, its arguments and saved state)
 * and its LM. Every {@code with*} checks its argument at once and returns a changed copy.
 *
 * @param <T> the concrete transform, returned by every {@code with*}
 */
public abstract class DSPexProgramTransform<T extends DSPexProgramTransform<T>> extends DSPexTransform<T> {
  private static final long serialVersionUID = 1L;

  DSPexProgramTransform() {}

  abstract ProgramSettings programSettings();

  abstract LmSettings lm();

  abstract T withProgramSettings(ProgramSettings settings);

  abstract T withLm(LmSettings settings);

  /** LM calls in flight per worker (default 8). */
  public abstract T withThreads(int n);

  /**
   * The inputs and outputs of this transform's program as its worker describes them. Starts one
   * worker, sets the program up (with every other setting, so a bad one fails here too) and stops
   * the worker; a tool can check a program and its settings before building a pipeline with them.
   *
   * @throws ProgramLoadException the worker started and the setup failed (the message holds the
   *     Python error): the program or a setting needs fixing
   * @throws WorkerUnavailableException no worker could start or answer: the worker settings or the
   *     Python environment need fixing
   */
  public Signature describeProgram() throws ProgramLoadException, WorkerUnavailableException {
    return ProgramIntrospection.read(workerConfig());
  }

  /**
   * A {@code dspy.ChainOfThought} instead of a {@code Predict} (default false; signatures only): the
   * program gets a {@value DSPexPredict#REASONING_FIELD} STRING output before the signature's outputs.
   */
  public T withChainOfThought(boolean enabled) {
    return withProgramSettings(programSettings().withChainOfThought(enabled));
  }

  /**
   * Keyword arguments for an {@code ofProgram} factory (plain values: strings, numbers, booleans,
   * lists, maps; default none: the factory is called with no arguments).
   */
  public T withProgramArgs(Map<String, ?> kwargs) {
    return withProgramSettings(programSettings().withProgramArgs(kwargs));
  }

  /** A saved program state ({@code program.save(path)}) loaded into the program (default none). */
  public T withProgramState(String path) {
    return withProgramSettings(programSettings().withProgramState(path));
  }

  /** The LM, as {@code dspy.LM} names it, e.g. {@code "openai/gpt-4o-mini"} (required unless {@link #withLmFactory}). */
  public T withModel(String model) {
    return withLm(lm().withModel(model, "withModel"));
  }

  /** The LM's base URL, for OpenAI-compatible servers (default: the provider's). */
  public T withApiBase(String url) {
    return withLm(lm().withApiBase(url, "withApiBase"));
  }

  /** LM temperature, 0 to 2 (default: DSPy's). */
  public T withTemperature(double t) {
    return withLm(lm().withTemperature(t, "withTemperature"));
  }

  /** Maximum completion tokens per LM call (default: DSPy's). */
  public T withMaxTokens(int n) {
    return withLm(lm().withMaxTokens(n, "withMaxTokens"));
  }

  /** Retries of a failed LM call by the LM client (default: DSPy's). */
  public T withNumRetries(int n) {
    return withLm(lm().withNumRetries(n, "withNumRetries"));
  }

  /** DSPy's LM cache on or off (default on). */
  public T withCache(boolean enabled) {
    return withLm(lm().withCache(enabled));
  }

  /**
   * Where DSPy keeps its LM cache (default: one directory per JVM, shared by all its workers, so a
   * worker restarted after a crash finds what its predecessor paid for; gone with the JVM). Name one
   * that outlives the JVM to keep answers across runs, or on a disk a cluster's machines share.
   */
  public T withCacheDir(String dir) {
    return withLm(lm().withCacheDir(dir, "withCacheDir"));
  }

  /** A Python function {@code "module:function"} returning the {@code dspy.LM} to use (default none). */
  public T withLmFactory(String factory) {
    return withLm(lm().withLmFactory(factory, null, "withLmFactory"));
  }

  /**
   * Like {@link #withLmFactory(String)}, calling the function with these keyword arguments (plain
   * values: strings, numbers, booleans, lists, maps).
   */
  public T withLmFactory(String factory, Map<String, ?> kwargs) {
    return withLm(lm().withLmFactory(factory, kwargs, "withLmFactory"));
  }
}
