package org.dspex.beam.dataflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.model.pipeline.v1.SchemaApi;
import org.apache.beam.sdk.util.construction.ParDoTranslation;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;

/**
 * Runner v2's job graph, the portable pipeline proto the runner stages, read for structure: a
 * transform by its unique name (composites keep their subtransforms), the DoFn class of a ParDo,
 * the row schema of a PCollection's coder, and which leaf transforms consume a PCollection.
 */
final class V2Pipeline {
  static final String PAR_DO = "beam:transform:pardo:v1";
  static final String ROW_CODER = "beam:coder:row:v1";
  static final String JAVA_DO_FN = "beam:dofn:javasdk:0.1";
  static final String DOCKER = "beam:env:docker:v1";

  private final RunnerApi.Components components;
  private final Map<String, RunnerApi.PTransform> byName = new HashMap<>();
  private final Map<String, String> idByName = new HashMap<>();
  /** PCollection id to the leaf transforms that read it. */
  private final Map<String, List<RunnerApi.PTransform>> consumers = new HashMap<>();

  V2Pipeline(RunnerApi.Pipeline proto) {
    this.components = proto.getComponents();
    for (Map.Entry<String, RunnerApi.PTransform> e : components.getTransformsMap().entrySet()) {
      RunnerApi.PTransform t = e.getValue();
      byName.put(t.getUniqueName(), t);
      idByName.put(t.getUniqueName(), e.getKey());
      if (t.getSubtransformsCount() == 0) {
        for (String pc : t.getInputsMap().values()) {
          consumers.computeIfAbsent(pc, k -> new ArrayList<>()).add(t);
        }
      }
    }
  }

  /** The transform named {@code uniqueName}. */
  RunnerApi.PTransform transform(String uniqueName) {
    RunnerApi.PTransform t = byName.get(uniqueName);
    assertNotNull(t, () -> "no transform '" + uniqueName + "' among " + new TreeSet<>(byName.keySet()));
    return t;
  }

  /** The id of the transform named {@code uniqueName} (what a composite's subtransforms list). */
  String transformId(String uniqueName) {
    transform(uniqueName);
    return idByName.get(uniqueName);
  }

  /**
   * The class of a Java ParDo's DoFn, read back from the proto as a Java SDK harness reads it,
   * checking that the transform is a ParDo of a Java DoFn.
   */
  static Class<?> javaDoFn(RunnerApi.PTransform parDo) throws InvalidProtocolBufferException {
    assertEquals(PAR_DO, parDo.getSpec().getUrn(), parDo.getUniqueName());
    RunnerApi.FunctionSpec doFn = RunnerApi.ParDoPayload.parseFrom(parDo.getSpec().getPayload()).getDoFn();
    assertEquals(JAVA_DO_FN, doFn.getUrn(), parDo.getUniqueName());
    return ParDoTranslation.doFnWithExecutionInformationFromProto(doFn).getDoFn().getClass();
  }

  /** The container image of the environment {@code t} runs in (a Docker environment's). */
  String containerImage(RunnerApi.PTransform t) throws InvalidProtocolBufferException {
    RunnerApi.Environment env = components.getEnvironmentsOrThrow(t.getEnvironmentId());
    assertEquals(DOCKER, env.getUrn(), () -> t.getUniqueName() + " runs in " + env);
    return RunnerApi.DockerPayload.parseFrom(env.getPayload()).getContainerImage();
  }

  /** The Beam schema of PCollection {@code id}, whose coder must be the row coder. */
  SchemaApi.Schema rowSchema(String id) throws InvalidProtocolBufferException {
    RunnerApi.Coder c = coder(id);
    assertEquals(ROW_CODER, c.getSpec().getUrn(), "coder of " + id);
    return SchemaApi.Schema.parseFrom(c.getSpec().getPayload());
  }

  static List<String> fieldNames(SchemaApi.Schema schema) {
    List<String> names = new ArrayList<>();
    schema.getFieldsList().forEach(f -> names.add(f.getName()));
    return names;
  }

  /** The field {@code name} of {@code schema}. */
  static SchemaApi.Field field(SchemaApi.Schema schema, String name) {
    return schema.getFieldsList().stream().filter(f -> f.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no field '" + name + "' in " + fieldNames(schema)));
  }

  /**
   * Whether a leaf transform whose unique name starts with {@code prefix} reads, directly or
   * through other transforms, PCollection {@code id}.
   */
  boolean reaches(String id, String prefix) {
    Deque<String> frontier = new ArrayDeque<>(List.of(id));
    Set<String> seen = new HashSet<>();
    while (!frontier.isEmpty()) {
      String pc = frontier.poll();
      if (!seen.add(pc)) {
        continue;
      }
      for (RunnerApi.PTransform t : consumers.getOrDefault(pc, List.of())) {
        if (t.getUniqueName().startsWith(prefix)) {
          return true;
        }
        frontier.addAll(t.getOutputsMap().values());
      }
    }
    return false;
  }

  private RunnerApi.Coder coder(String id) {
    return components.getCodersOrThrow(components.getPcollectionsOrThrow(id).getCoderId());
  }
}
