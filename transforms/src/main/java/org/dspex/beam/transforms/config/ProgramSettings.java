package org.dspex.beam.transforms.config;

import static org.dspex.beam.transforms.config.Checks.check;
import static org.dspex.beam.transforms.config.Checks.moduleFunction;
import static org.dspex.beam.transforms.config.Checks.nonEmpty;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.transforms.signature.Signature;

/**
 * The DSPy program a transform sets up: a signature (run by {@code dspy.Predict} or {@code
 * ChainOfThought}) or a {@code module:factory} with its arguments, and a saved state to load. The
 * program keys of a {@code setup} (docs/protocol.md §9.9.1), shared by {@code DSPexPredict} and
 * {@code DSPexOptimize}. Immutable; each {@code with*} checks its argument.
 */
@AutoValue
public abstract class ProgramSettings implements Serializable {
  private static final long serialVersionUID = 1L;

  public abstract @Nullable String signature();

  public abstract @Nullable String program();

  public abstract @Nullable String programState();

  public abstract @Nullable Map<String, Object> programArgs();

  public abstract boolean chainOfThought();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setSignature(@Nullable String s);

    abstract Builder setProgram(@Nullable String s);

    abstract Builder setProgramState(@Nullable String s);

    abstract Builder setProgramArgs(@Nullable Map<String, Object> args);

    abstract Builder setChainOfThought(boolean b);

    abstract ProgramSettings build();
  }

  /** A {@code dspy.Predict} of {@code signature}, parsed now so that a bad one fails here. */
  public static ProgramSettings ofSignature(String signature) {
    Signature.parse(signature);
    return new AutoValue_ProgramSettings.Builder().setSignature(signature.trim()).setChainOfThought(false).build();
  }

  /** The module {@code factory} ({@code "module:function"}) builds. */
  public static ProgramSettings ofProgram(String factory) {
    return new AutoValue_ProgramSettings.Builder().setProgram(moduleFunction(factory, "ofProgram"))
        .setChainOfThought(false).build();
  }

  public ProgramSettings withChainOfThought(boolean enabled) {
    return toBuilder().setChainOfThought(enabled).build();
  }

  public ProgramSettings withProgramArgs(Map<String, ?> kwargs) {
    check(program() != null, "withProgramArgs: applies to ofProgram(\"module:factory\"), not to a signature");
    return toBuilder().setProgramArgs(LmSettings.plainCopy(kwargs, "withProgramArgs")).build();
  }

  public ProgramSettings withProgramState(String path) {
    return toBuilder().setProgramState(nonEmpty(path, "withProgramState")).build();
  }

  /** Checks the combination when {@code transform} expands: a chain of thought needs a signature. */
  public void checkCombination(String transform) {
    check(signature() != null || !chainOfThought(), "%s: withChainOfThought applies to signatures; build a"
        + " ChainOfThought in the program instead", transform);
  }

  /** Puts the program's {@code setup} keys into {@code args}. */
  public void putSetupArgs(Map<String, Object> args) {
    if (signature() != null) {
      args.put("signature", signature());
      if (chainOfThought()) {
        args.put("predictor", "chain_of_thought");
      }
    } else {
      args.put("program", program());
      LmSettings.putIf(args, "program_args", programArgs());
    }
    LmSettings.putIf(args, "program_state", programState());
  }
}
