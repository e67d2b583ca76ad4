package org.dspex.beam.transforms.optimize;

import static org.dspex.beam.transforms.config.Checks.check;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.transforms.input.InputRows;
import org.dspex.beam.transforms.signature.SignatureField;

/**
 * Which of a program's outputs the examples carry as labels (what the metric compares), checked
 * against the examples' schema when the pipeline is built, so that a missing label field fails
 * there and not on the worker.
 */
public final class LabelFields {
  private LabelFields() {}

  /**
   * The label fields: {@code given} (each an output of the program and a field of {@code schema}),
   * or, without any, the program's {@code outputs} that {@code schema} has.
   *
   * @param what names the program in the errors
   * @throws IllegalArgumentException a given field is not an output or not in the schema, or no
   *     output is a field of the schema
   */
  public static List<SignatureField> resolve(@Nullable List<String> given, List<SignatureField> outputs,
      Schema schema, String what) {
    List<SignatureField> labels = new ArrayList<>();
    if (given != null) {
      for (String name : given) {
        SignatureField f = outputs.stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow(
            () -> new IllegalArgumentException("withLabelFields: '" + name + "' is not an output of the " + what
                + "; its outputs are " + outputs.stream().map(SignatureField::name).toList()));
        labels.add(f);
      }
      InputRows.checkHasFields(schema, given, what + " (label fields)");
    } else {
      for (SignatureField o : outputs) {
        if (schema.hasField(o.name())) {
          labels.add(o);
        }
      }
    }
    check(!labels.isEmpty(), "%s: the examples hold none of its outputs %s (the labels the metric compares);"
        + " the input has %s", what, outputs.stream().map(SignatureField::name).toList(), schema.getFieldNames());
    return labels;
  }
}
