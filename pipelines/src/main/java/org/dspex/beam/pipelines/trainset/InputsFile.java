package org.dspex.beam.pipelines.trainset;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.pipelines.io.Json;

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

  /** The sidecar of {@code output}. */
  public static Path of(Path output) {
    return output.resolveSibling(output.getFileName() + ".inputs.json");
  }

  /** Writes the sidecar of {@code output}. */
  public static Path write(Path output, List<String> inputs, List<String> outputs, String labelField,
      String teacher, String metric) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("inputs", inputs);
    m.put("outputs", outputs);
    m.put("label_field", labelField);
    m.put("teacher", teacher);
    m.put("metric", metric);
    Path p = of(output);
    Files.writeString(p, Json.write(m) + "\n", StandardCharsets.UTF_8);
    return p;
  }
}
