package org.dspex.beam.dataflow;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runner v1's job graph, the {@code steps} of the job JSON a template holds, read for structure: a
 * step by its user name (the transform's full name), its DoFn, its outputs and their coders, and
 * which steps consume what it outputs. Runner v1 flattens composites: only leaves are steps.
 */
final class V1Steps {
  private final JsonNode job;
  private final Map<String, JsonNode> byUserName = new LinkedHashMap<>();
  private final Map<String, JsonNode> byName = new HashMap<>();
  /** "stepName/outputName" to the steps that read it. */
  private final Map<String, List<JsonNode>> consumers = new HashMap<>();

  V1Steps(JsonNode job) {
    this.job = job;
    JsonNode steps = job.get("steps");
    assertNotNull(steps, "a runner v1 job has steps");
    for (JsonNode s : steps) {
      byUserName.put(text(s.get("properties").get("user_name")), s);
      byName.put(s.get("name").asText(), s);
      for (JsonNode ref : inputs(s)) {
        consumers.computeIfAbsent(ref.get("step_name").asText() + "/" + text(ref.get("output_name")),
            k -> new ArrayList<>()).add(s);
      }
    }
  }

  /** The job's type, e.g. {@code JOB_TYPE_BATCH}. */
  String type() {
    return job.get("type").asText();
  }

  /** The step named {@code userName}. */
  JsonNode step(String userName) {
    JsonNode s = byUserName.get(userName);
    assertNotNull(s, () -> "no step '" + userName + "' among " + byUserName.keySet());
    return s;
  }

  /** The steps' user names. */
  Set<String> userNames() {
    return byUserName.keySet();
  }

  static String kind(JsonNode step) {
    return step.get("kind").asText();
  }

  /** The class of a ParallelDo's DoFn. */
  static String userFn(JsonNode step) {
    return text(step.get("properties").get("user_fn"));
  }

  /** The step's outputs ({@code output_info}; none for a step that only consumes). */
  static List<JsonNode> outputs(JsonNode step) {
    List<JsonNode> out = new ArrayList<>();
    JsonNode info = step.get("properties").get("output_info");
    if (info != null) {
      info.forEach(out::add);
    }
    return out;
  }

  /** The step's output of tag {@code tag} (its {@code output_name}). */
  static JsonNode output(JsonNode step, String tag) {
    for (JsonNode o : outputs(step)) {
      if (text(o.get("output_name")).equals(tag)) {
        return o;
      }
    }
    throw new AssertionError("no output '" + tag + "' of " + text(step.get("properties").get("user_name")) + ": "
        + outputs(step));
  }

  /**
   * The field names of the Beam schema of an output's row coder (the coder of the windowed value's
   * element), or fails when the output's elements are not coded as rows.
   */
  static List<String> rowFields(JsonNode output) {
    JsonNode row = find(output.get("encoding"), "RowCoder");
    assertNotNull(row, () -> "no RowCoder in " + output.get("encoding"));
    JsonNode schema = row.get("schema");
    assertNotNull(schema, () -> "a RowCoder without its schema: " + row);
    // The schema proto as JSON text, in a {"@type": ".../Text", "value": ...} property.
    JsonNode parsed = parse(text(schema));
    List<String> names = new ArrayList<>();
    parsed.get("fields").forEach(f -> names.add(f.get("name").asText()));
    return names;
  }

  /**
   * Whether a step whose user name starts with {@code prefix} reads, directly or through other
   * steps, what {@code step} outputs under {@code tag}.
   */
  boolean reaches(JsonNode step, String tag, String prefix) {
    Deque<String> frontier = new ArrayDeque<>();
    frontier.add(step.get("name").asText() + "/" + text(output(step, tag).get("output_name")));
    Set<String> seen = new HashSet<>();
    while (!frontier.isEmpty()) {
      String ref = frontier.poll();
      if (!seen.add(ref)) {
        continue;
      }
      for (JsonNode c : consumers.getOrDefault(ref, List.of())) {
        if (text(c.get("properties").get("user_name")).startsWith(prefix)) {
          return true;
        }
        for (JsonNode o : outputs(c)) {
          frontier.add(c.get("name").asText() + "/" + text(o.get("output_name")));
        }
      }
    }
    return false;
  }

  /** The references ({@code step_name}, {@code output_name}) a step reads: main, flattened and side inputs. */
  private static List<JsonNode> inputs(JsonNode step) {
    JsonNode p = step.get("properties");
    List<JsonNode> refs = new ArrayList<>();
    if (p.has("parallel_input")) {
      refs.add(p.get("parallel_input"));
    }
    if (p.has("inputs")) {
      p.get("inputs").forEach(refs::add);
    }
    if (p.has("non_parallel_inputs")) {
      p.get("non_parallel_inputs").forEach(refs::add);
    }
    return refs;
  }

  /** The first object under {@code node} whose {@code @type} names {@code type}. */
  private static JsonNode find(JsonNode node, String type) {
    if (node == null) {
      return null;
    }
    if (node.isObject() && node.has("@type") && node.get("@type").asText().contains(type)) {
      return node;
    }
    for (JsonNode child : node) {
      JsonNode f = find(child, type);
      if (f != null) {
        return f;
      }
    }
    return null;
  }

  /** A property value, written either plainly or as {@code {"value": ...}}. */
  static String text(JsonNode n) {
    return n.isObject() && n.has("value") ? n.get("value").asText() : n.asText();
  }

  private static JsonNode parse(String json) {
    try {
      return new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
