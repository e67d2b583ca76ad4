package org.dspex.beam.dataflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.model.pipeline.v1.SchemaApi;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.dspex.beam.pipelines.PreparedJob;
import org.dspex.beam.pipelines.cli.DSPexCli;
import org.dspex.beam.pipelines.io.BeamFiles;
import org.dspex.beam.pipelines.io.MemoryFileSystem;
import org.dspex.beam.pipelines.trainset.TrainsetStep;
import org.dspex.beam.transforms.DSPexEmbed;
import org.dspex.beam.transforms.batching.InferenceFn;
import org.dspex.beam.transforms.failures.Failures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The embed, predict and trainset jobs of the {@code dspex} command, built by the command's own
 * code ({@link DSPexCli#prepare}) from a command line with {@code --runner DataflowRunner}, and
 * translated by the real DataflowRunner in template mode, offline ({@link OfflineDataflow}), for
 * runner v1 (the job's steps) and runner v2 (the portable pipeline proto). What must hold on
 * Dataflow: our batching DoFn is a step of its own with a main and a failures output, both coded as
 * rows of our schemas, the outputs reach the output and failures writers, and (runner v2, which
 * custom containers need) the DoFn runs in the worker image given as {@code --sdkContainerImage}. The input and output
 * live in an in-memory object store (the command refuses local paths for Dataflow's workers).
 */
class DataflowTranslationTest {
  /** A job of the command, with the model step's name and what its output rows add to the read ones. */
  enum Command {
    EMBED("Embed", List.of(DSPexEmbed.EMBEDDING_FIELD),
        "{\"id\": 1, \"text\": \"In the beginning God created the heaven and the earth.\"}\n",
        "embed", "--normalize"),
    PREDICT("Predict", List.of("answer"),
        "{\"id\": 1, \"question\": \"Who built the ark?\"}\n",
        "predict", "--signature", "question -> answer", "--lm", "openai/offline", "--api-base",
        "http://127.0.0.1:9/v1", "--threads", "4"),
    TRAINSET("Label", List.of("answer", TrainsetStep.ACCEPTED),
        "{\"question\": \"Who built the ark?\", \"answer\": \"Noah\"}\n",
        "trainset", "--teacher", "question -> answer", "--lm", "openai/offline", "--api-base",
        "http://127.0.0.1:9/v1", "--label-field", "answer", "--metric", "exact");

    final String modelStep;
    final List<String> modelFields;
    final String input;
    final List<String> args;

    Command(String modelStep, List<String> modelFields, String input, String... args) {
      this.modelStep = modelStep;
      this.modelFields = modelFields;
      this.input = input;
      this.args = List.of(args);
    }

    /** The model's output rows: the fields the job reads (the input's and the bookkeeping), then the model's. */
    void assertOutputFields(PreparedJob job, List<String> written) {
      List<String> read = job.job().layout().schema().getFieldNames();
      assertEquals(read, written.subList(0, Math.min(read.size(), written.size())), "the read fields first");
      assertTrue(written.subList(read.size(), written.size()).containsAll(modelFields), written::toString);
    }

    /** Its command line: input and output in the object store, the Dataflow runner, the offline options. */
    String[] commandLine(OfflineDataflow dataflow) throws Exception {
      String in = "mem://bucket/" + name().toLowerCase() + "/in.jsonl";
      BeamFiles.writeString(in, input);
      List<String> line = new ArrayList<>(args);
      line.addAll(List.of("--input", in, "--output", "mem://bucket/" + name().toLowerCase() + "/out.parquet",
          "--overwrite", "--runner", "DataflowRunner", "--"));
      line.addAll(dataflow.options());
      return line.toArray(String[]::new);
    }
  }

  @TempDir Path dir;

  @BeforeAll
  static void objectStore() {
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
    MemoryFileSystem.clear();
  }

  @ParameterizedTest
  @EnumSource(Command.class)
  void givenTheCommandsJob_whenTranslatedForRunnerV1AndV2_thenOurDoFnWithRowCodedOutputsReachesTheWriters(Command c)
      throws Exception {
    OfflineDataflow dataflow = new OfflineDataflow(dir);
    // One prepared job, two pipelines: trainset's preparation starts a worker to learn the program's fields.
    try (PreparedJob job = DSPexCli.prepare(c.commandLine(dataflow))) {
      assertRunnerV1(c, job, new V1Steps(dataflow.v1(job.pipeline())));
      assertRunnerV2(c, job, new V2Pipeline(dataflow.v2(job.pipeline())));
    }
  }

  /** Runner v1: the model step's ParDo is a step of its own, with both outputs row-coded and written. */
  private static void assertRunnerV1(Command c, PreparedJob job, V1Steps steps) {
    assertEquals("JOB_TYPE_BATCH", steps.type());
    JsonNode infer = steps.step(c.modelStep + "/Infer");
    assertEquals("ParallelDo", V1Steps.kind(infer));
    assertEquals(InferenceFn.class.getName(), V1Steps.userFn(infer));
    assertEquals(2, V1Steps.outputs(infer).size(), () -> "main + failures: " + V1Steps.outputs(infer));

    c.assertOutputFields(job, V1Steps.rowFields(V1Steps.output(infer, InferenceFn.OUTPUT.getId())));
    assertEquals(Failures.SCHEMA.getFieldNames(),
        V1Steps.rowFields(V1Steps.output(infer, InferenceFn.FAILURES.getId())));

    assertTrue(steps.reaches(infer, InferenceFn.OUTPUT.getId(), "WriteOutput/"), steps.userNames()::toString);
    assertTrue(steps.reaches(infer, InferenceFn.FAILURES.getId(), "WriteFailures/"), steps.userNames()::toString);
    assertTrue(steps.userNames().stream().anyMatch(n -> n.startsWith("Read/")), steps.userNames()::toString);
  }

  /**
   * Runner v2: the model step is a composite holding the ParDo of our DoFn, which runs in the worker
   * image, with both outputs row-coded and written.
   */
  private static void assertRunnerV2(Command c, PreparedJob job, V2Pipeline pipeline) throws Exception {
    assertTrue(pipeline.transform(c.modelStep).getSubtransformsList()
        .contains(pipeline.transformId(c.modelStep + "/Infer")), "the model step is a composite holding Infer");
    RunnerApi.PTransform infer = pipeline.transform(c.modelStep + "/Infer");
    assertEquals(InferenceFn.class, V2Pipeline.javaDoFn(infer));
    assertEquals(2, infer.getOutputsCount(), () -> "main + failures: " + infer.getOutputsMap());
    assertEquals(OfflineDataflow.IMAGE, pipeline.containerImage(infer), "our DoFn runs in the worker image");

    String output = infer.getOutputsOrThrow(InferenceFn.OUTPUT.getId());
    SchemaApi.Schema schema = pipeline.rowSchema(output);
    c.assertOutputFields(job, V2Pipeline.fieldNames(schema));
    if (c == Command.EMBED) {
      SchemaApi.FieldType embedding = V2Pipeline.field(schema, DSPexEmbed.EMBEDDING_FIELD).getType();
      assertEquals(SchemaApi.AtomicType.FLOAT, embedding.getArrayType().getElementType().getAtomicType(),
          embedding::toString);
    }
    String failures = infer.getOutputsOrThrow(InferenceFn.FAILURES.getId());
    assertEquals(Failures.SCHEMA.getFieldNames(), V2Pipeline.fieldNames(pipeline.rowSchema(failures)));

    assertTrue(pipeline.reaches(output, "WriteOutput/"));
    assertTrue(pipeline.reaches(failures, "WriteFailures/"));
  }
}
