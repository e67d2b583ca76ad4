package org.dspex.beam.transforms.config;

import static org.dspex.beam.transforms.config.Checks.check;
import static org.dspex.beam.transforms.config.Checks.moduleFunction;
import static org.dspex.beam.transforms.config.Checks.nonEmpty;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.transforms.failures.ElementJson;

/**
 * One LM as a transform configures it: the {@code lm} map of a {@code setup} (docs/protocol.md
 * §9.9.1), checked as it is set. Immutable; each {@code with*} names the transform's public method
 * in its message. {@code DSPexPredict} holds one, {@code DSPexOptimize} two (the student's and the
 * teacher's).
 */
@AutoValue
public abstract class LmSettings implements Serializable {
  private static final long serialVersionUID = 1L;

  public abstract @Nullable String model();

  public abstract @Nullable String apiBase();

  public abstract @Nullable String apiKeyEnv();

  public abstract @Nullable Double temperature();

  public abstract @Nullable Integer maxTokens();

  public abstract @Nullable Integer numRetries();

  public abstract boolean cache();

  public abstract @Nullable String cacheDir();

  public abstract @Nullable String lmFactory();

  public abstract @Nullable Map<String, Object> factoryArgs();

  abstract Builder toBuilder();

  /** No LM yet; DSPy's cache on. */
  public static LmSettings defaults() {
    return new AutoValue_LmSettings.Builder().setCache(true).build();
  }

  /** Builder of {@link LmSettings}. */
  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setModel(@Nullable String s);

    abstract Builder setApiBase(@Nullable String s);

    abstract Builder setApiKeyEnv(@Nullable String s);

    abstract Builder setTemperature(@Nullable Double d);

    abstract Builder setMaxTokens(@Nullable Integer n);

    abstract Builder setNumRetries(@Nullable Integer n);

    abstract Builder setCache(boolean b);

    abstract Builder setCacheDir(@Nullable String s);

    abstract Builder setLmFactory(@Nullable String s);

    abstract Builder setFactoryArgs(@Nullable Map<String, Object> m);

    abstract LmSettings build();
  }

  /** Whether an LM is given (a model or a factory). */
  public boolean configured() {
    return model() != null || lmFactory() != null;
  }

  public LmSettings withModel(String model, String method) {
    return toBuilder().setModel(nonEmpty(model, method)).build();
  }

  public LmSettings withApiBase(String url, String method) {
    return toBuilder().setApiBase(checkApiBase(url, method)).build();
  }

  public LmSettings withApiKeyEnv(String variableName) {
    return toBuilder().setApiKeyEnv(variableName).build();
  }

  public LmSettings withTemperature(double t, String method) {
    return toBuilder().setTemperature(checkTemperature(t, method)).build();
  }

  public LmSettings withMaxTokens(int n, String method) {
    check(n > 0, "%s: must be positive, was %s", method, n);
    return toBuilder().setMaxTokens(n).build();
  }

  public LmSettings withNumRetries(int n, String method) {
    check(n >= 0, "%s: must not be negative, was %s", method, n);
    return toBuilder().setNumRetries(n).build();
  }

  public LmSettings withCache(boolean enabled) {
    return toBuilder().setCache(enabled).build();
  }

  public LmSettings withCacheDir(String dir, String method) {
    return toBuilder().setCacheDir(nonEmpty(dir, method)).build();
  }

  public LmSettings withLmFactory(String factory, @Nullable Map<String, ?> kwargs, String method) {
    return toBuilder().setLmFactory(moduleFunction(factory, method))
        .setFactoryArgs(kwargs == null ? null : plainCopy(kwargs, method)).build();
  }

  /** {@code url} if it is an http(s) URL. */
  public static String checkApiBase(String url, String method) {
    nonEmpty(url, method);
    check(url.startsWith("http://") || url.startsWith("https://"), "%s: must be an http(s) URL, was '%s'", method, url);
    return url;
  }

  /** {@code t} if it is within [0, 2]. */
  public static double checkTemperature(double t, String method) {
    check(t >= 0 && t <= 2, "%s: must be within [0, 2], was %s", method, t);
    return t;
  }

  /** A copy of {@code kwargs} as plain values, the form they take on the wire. */
  public static Map<String, Object> plainCopy(Map<String, ?> kwargs, String method) {
    check(kwargs != null, "%s: kwargs must not be null", method);
    @SuppressWarnings("unchecked")
    Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) ElementJson.plain(kwargs));
    return copy;
  }

  /** The {@code lm} map of a {@code setup}: only what is set, never a secret (the key's variable name). */
  public Map<String, Object> setupMap() {
    Map<String, Object> lm = new LinkedHashMap<>();
    putIf(lm, "model", model());
    putIf(lm, "api_base", apiBase());
    putIf(lm, "api_key_env", apiKeyEnv());
    putIf(lm, "temperature", temperature());
    putIf(lm, "max_tokens", maxTokens());
    putIf(lm, "num_retries", numRetries());
    lm.put("cache", cache());
    putIf(lm, "cache_dir", cacheDir());
    putIf(lm, "lm_factory", lmFactory());
    putIf(lm, "factory_args", factoryArgs());
    return lm;
  }

  /** Puts {@code v} under {@code k} unless it is null. */
  public static void putIf(Map<String, Object> m, String k, @Nullable Object v) {
    if (v != null) {
      m.put(k, v);
    }
  }
}
