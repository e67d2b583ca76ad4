package org.dspex.beam.transforms.batching;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import org.apache.beam.sdk.schemas.Schema;
import org.dspex.beam.connector.protocol.FormatChoice;

/**
 * Everything a batching DoFn needs, fixed when the pipeline is built: the model client, the output
 * schema (input fields, then the model's), the batch limits, retries, the body format, and the
 * cost controls with the key that shares them within a JVM.
 */
@AutoValue
public abstract class InferenceSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  public abstract ModelClient client();

  public abstract Schema outputSchema();

  public abstract int maxBatchSize();

  public abstract long maxBatchBytes();

  public abstract long maxElementBytes();

  public abstract int maxAttempts();

  public abstract FormatChoice format();

  /** Identifies the transform application whose budget and rate are shared in a JVM. */
  public abstract String costKey();

  /** Tokens, 0: no budget. */
  public abstract long tokenBudget();

  /** Elements admitted per second, 0: no limit. */
  public abstract double callsPerSecond();

  /**
   * Distinct payloads whose outcomes identical elements copy instead of being sent, per JVM
   * ({@link Deduplication}); 0: every element is sent.
   */
  public abstract int dedupCapacity();

  public static Builder builder() {
    return new AutoValue_InferenceSpec.Builder().setTokenBudget(0).setCallsPerSecond(0).setDedupCapacity(0);
  }

  /** Builder of {@link InferenceSpec}. */
  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setClient(ModelClient c);

    public abstract Builder setOutputSchema(Schema s);

    public abstract Builder setMaxBatchSize(int n);

    public abstract Builder setMaxBatchBytes(long n);

    public abstract Builder setMaxElementBytes(long n);

    public abstract Builder setMaxAttempts(int n);

    public abstract Builder setFormat(FormatChoice p);

    public abstract Builder setCostKey(String k);

    public abstract Builder setTokenBudget(long n);

    public abstract Builder setCallsPerSecond(double d);

    public abstract Builder setDedupCapacity(int n);

    public abstract InferenceSpec build();
  }
}
