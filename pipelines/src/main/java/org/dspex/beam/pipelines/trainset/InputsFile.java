package org.dspex.beam.pipelines.trainset;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.pipelines.io.BeamFiles;
import org.dspex.beam.pipelines.io.Json;
import org.dspex.beam.pipelines.io.OutputTarget;

/**
 * {@code <output>.inputs.json}, written next to a trainset: which keys of its records are inputs,
 * so that {@code dspy.Example(**record).with_inputs(*inputs)} needs no guessing:
 *
 * <pre>{@code
 * {"inputs": ["question"], "outputs": ["answer"], "label_field": "answer",
 *  "teacher": "question -> answer", "metric": "exact"}
 * }</pre>
 *
 * <p>The rule it writes down also holds without it: a record's input keys are its keys minus the
 * teacher's outputs (and minus any {@code --keep-fields}).
 */
public final class InputsFile {
  private InputsFile() {}

  /** The sidecar of {@code output} (Beam resource specs, see {@link BeamFiles}). */
  public static String of(String output) {
    return BeamFiles.sibling(output, BeamFiles.fileName(output) + OutputTarget.INPUTS_SUFFIX);
  }

  /** Writes the sidecar of {@code output}; returns its spec. */
  public static String write(String output, List<String> inputs, List<String> outputs, String labelField,
      String teacher, String metric) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("inputs", inputs);
    m.put("outputs", outputs);
    m.put("label_field", labelField);
    m.put("teacher", teacher);
    m.put("metric", metric);
    String p = of(output);
    BeamFiles.writeString(p, Json.write(m) + "\n");
    return p;
  }
}
