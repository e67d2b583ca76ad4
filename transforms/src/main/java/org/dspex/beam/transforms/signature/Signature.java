package org.dspex.beam.transforms.signature;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.beam.sdk.schemas.Schema;

/**
 * A DSPy signature string, parsed in Java so that a pipeline knows its input names and its typed
 * output schema when it is built, not when a worker first runs:
 *
 * <pre>{@code
 * Signature s = Signature.parse("question, context: list[str] -> answer, confidence: float");
 * s.inputNames();     // [question, context]
 * s.outputSchema();   // answer STRING, confidence DOUBLE (both nullable)
 * }</pre>
 *
 * <p>Grammar: {@code inputs -> outputs}, each a comma-separated list of {@code name} or {@code
 * name: type} ({@link FieldType} lists the types; without one a field is {@code str}). Commas inside
 * brackets ({@code Literal['a', 'b']}) do not separate fields. Instructions are not part of the
 * string: a program ({@code DSPexPredict.ofProgram}) carries them.
 */
public final class Signature implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final String text;
  private final List<SignatureField> inputs;
  private final List<SignatureField> outputs;

  private Signature(String text, List<SignatureField> inputs, List<SignatureField> outputs) {
    this.text = text;
    this.inputs = inputs;
    this.outputs = outputs;
  }

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming the signature and what is wrong with it
   */
  public static Signature parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("signature must not be empty, was " + (text == null ? null : "'" + text + "'"));
    }
    int arrow = text.indexOf("->");
    if (arrow < 0 || text.indexOf("->", arrow + 2) >= 0) {
      throw new IllegalArgumentException(
          "signature '" + text + "' must have exactly one '->' between inputs and outputs, e.g."
              + " 'question -> answer'");
    }
    try {
      List<SignatureField> in = fields(text.substring(0, arrow), "inputs");
      List<SignatureField> out = fields(text.substring(arrow + 2), "outputs");
      Set<String> seen = new HashSet<>();
      for (SignatureField f : concat(in, out)) {
        if (!seen.add(f.name())) {
          throw new IllegalArgumentException("field '" + f.name() + "' appears twice");
        }
      }
      return new Signature(text.trim(), in, out);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("signature '" + text + "': " + e.getMessage(), e);
    }
  }

  /**
   * A signature from the fields a worker reported for a program ({@code setup} result {@code
   * inputs}/{@code outputs}); types Java does not model become STRING.
   */
  public static Signature ofFields(List<SignatureField> inputs, List<SignatureField> outputs) {
    StringBuilder sb = new StringBuilder();
    for (SignatureField f : inputs) {
      sb.append(sb.length() == 0 ? "" : ", ").append(f.name()).append(": ").append(f.type());
    }
    sb.append(" -> ");
    String sep = "";
    for (SignatureField f : outputs) {
      sb.append(sep).append(f.name()).append(": ").append(f.type());
      sep = ", ";
    }
    return new Signature(sb.toString(), List.copyOf(inputs), List.copyOf(outputs));
  }

  private static List<SignatureField> concat(List<SignatureField> a, List<SignatureField> b) {
    List<SignatureField> l = new ArrayList<>(a);
    l.addAll(b);
    return l;
  }

  private static List<SignatureField> fields(String side, String what) {
    List<SignatureField> fields = new ArrayList<>();
    for (String part : splitTopLevel(side)) {
      String p = part.trim();
      if (p.isEmpty()) {
        throw new IllegalArgumentException(what + " have an empty field (a stray comma?)");
      }
      int colon = p.indexOf(':');
      String name = (colon < 0 ? p : p.substring(0, colon)).trim();
      if (!IDENTIFIER.matcher(name).matches()) {
        throw new IllegalArgumentException("'" + name + "' is not a valid field name");
      }
      FieldType type = colon < 0 ? FieldType.STR : FieldType.parse(p.substring(colon + 1));
      fields.add(new SignatureField(name, type));
    }
    if (fields.isEmpty()) {
      throw new IllegalArgumentException("no " + what);
    }
    return Collections.unmodifiableList(fields);
  }

  /** Splits at commas outside brackets and quotes. */
  private static List<String> splitTopLevel(String s) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    char quote = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '[') {
        depth++;
      } else if (c == ']') {
        depth--;
      } else if (c == ',' && depth == 0) {
        parts.add(s.substring(start, i));
        start = i + 1;
      }
    }
    if (!s.substring(start).isBlank() || !parts.isEmpty()) {
      parts.add(s.substring(start));
    }
    return parts;
  }

  /** The signature as given (trimmed), what the worker receives. */
  public String text() {
    return text;
  }

  /** The input fields, in order. */
  public List<SignatureField> inputs() {
    return inputs;
  }

  /** The output fields, in order. */
  public List<SignatureField> outputs() {
    return outputs;
  }

  /** The input names, in order. */
  public List<String> inputNames() {
    List<String> l = new ArrayList<>();
    inputs.forEach(f -> l.add(f.name()));
    return l;
  }

  /** The outputs as a Beam schema (every field nullable). */
  public Schema outputSchema() {
    Schema.Builder b = Schema.builder();
    for (SignatureField f : outputs) {
      b.addField(f.name(), f.type().beamType());
    }
    return b.build();
  }

  @Override
  public String toString() {
    return text;
  }
}
