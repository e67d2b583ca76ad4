package org.dspex.beam.dataflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.beam.runners.dataflow.DataflowRunner;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.dspex.beam.pipelines.JobSettings;
import org.dspex.beam.pipelines.RunnerSettings;
import org.dspex.beam.pipelines.UsageError;
import org.dspex.beam.pipelines.cli.DSPexCli;
import org.dspex.beam.pipelines.io.BeamFiles;
import org.dspex.beam.transforms.DSPexEmbed;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the command does differently for the real DataflowRunner, whose workers are machines of
 * their own: it refuses paths of this machine (input, output, program state) and a template
 * location, each as one line before anything is read, and gives the workers no
 * interpreter of this machine (they take the image's {@code DSPEX_PYTHON}).
 */
class DataflowCommandTest {
  private static final String IN = "mem://bucket/command/in.jsonl";
  private static final String OUT = "mem://bucket/command/out.jsonl";

  @TempDir Path dir;
  private OfflineDataflow dataflow;

  @BeforeAll
  static void objectStore() {
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
  }

  @BeforeEach
  void input() throws Exception {
    dataflow = new OfflineDataflow(dir);
    BeamFiles.writeString(IN, "{\"id\": 1, \"text\": \"a\", \"question\": \"q?\"}\n");
  }

  /** {@code command} with {@code --runner DataflowRunner} and the offline options after {@code --}. */
  private String[] onDataflow(List<String> command, String... beamOptions) throws Exception {
    List<String> line = new ArrayList<>(command);
    line.addAll(List.of("--runner", "DataflowRunner", "--"));
    line.addAll(dataflow.options());
    line.addAll(Arrays.asList(beamOptions));
    return line.toArray(String[]::new);
  }

  private String refusal(List<String> command, String... beamOptions) throws Exception {
    String[] line = onDataflow(command, beamOptions);
    UsageError e = assertThrows(UsageError.class, () -> DSPexCli.prepare(line).close());
    assertFalse(e.getMessage().contains("\n"), () -> "one line: " + e.getMessage());
    return e.getMessage();
  }

  @Test
  void givenALocalInput_thenTheCommandRefusesItBeforeReadingIt() throws Exception {
    Path local = Files.writeString(dir.resolve("in.jsonl"), "{\"text\": \"a\"}\n");
    assertEquals("--input '" + local + "' is a path on this machine, which the workers of DataflowRunner (machines"
        + " of their own) cannot read; copy it to a bucket and give its gs:// URI",
        refusal(List.of("embed", "--input", local.toString(), "--output", OUT)));
    String relative = refusal(List.of("embed", "--input", "in.jsonl", "--output", OUT));
    assertTrue(relative.startsWith("--input 'in.jsonl' is a path on this machine"), relative);
  }

  @Test
  void givenALocalOutput_thenTheCommandRefusesItBeforeWritingAnything() throws Exception {
    Path out = dir.resolve("out.jsonl");
    assertEquals("--output '" + out + "' is a path on this machine, where the workers of DataflowRunner (machines"
        + " of their own) cannot write; give a gs:// URI",
        refusal(List.of("embed", "--input", IN, "--output", out.toString())));
    try (Stream<Path> left = Files.list(dir)) {
      assertTrue(left.noneMatch(f -> f.getFileName().toString().startsWith(".dspex-tmp")), "no temporary folder");
    }
  }

  @Test
  void givenAProgramStateOfThisMachine_thenPredictRefusesIt() throws Exception {
    Path state = Files.writeString(dir.resolve("program.json"), "{}");
    List<String> predict = List.of("predict", "--signature", "question -> answer", "--lm", "openai/offline",
        "--input", IN, "--output", OUT);
    List<String> withState = new ArrayList<>(predict);
    withState.addAll(List.of("--program-state", state.toString()));
    String m = refusal(withState);
    assertTrue(m.startsWith("--program-state names a file on this machine, which the workers of DataflowRunner"), m);
    assertTrue(m.endsWith("build it into the worker image (dataflow/container) and load it in the program's factory"), m);
  }

  @Test
  void givenATemplateLocation_thenTheCommandRefusesToWriteATemplateItCouldNotFinish() throws Exception {
    String m = refusal(List.of("embed", "--input", IN, "--output", OUT),
        "--templateLocation=" + dir.resolve("t.json"));
    assertTrue(m.startsWith("--templateLocation would make DataflowRunner write a template instead of running"), m);
  }

  @Test
  void givenDataflow_thenTheWorkersGetNoInterpreterOfThisMachineButTheProgramCheckDoes() throws Exception {
    String python = System.getProperty(JobSettings.PYTHON_PROPERTY);
    assertNotNull(python, "the build passes the project venv's interpreter");
    RunnerSettings runner = RunnerSettings.of("DataflowRunner", RunnerSettings.LOCAL_FLINK, null, dataflow.options());
    assertEquals(DataflowRunner.class, runner.runnerClass());
    assertFalse(runner.runsHere());
    assertFalse(runner.workersSeeLocalFiles());
    JobSettings settings = new JobSettings(IN, null, OUT, false, 0, runner, 1, null, "auto", 0.01, false, 1 << 20,
        null, null, null);
    DSPexEmbed embed = DSPexEmbed.of("sentence-transformers/all-MiniLM-L6-v2");
    assertNull(settings.configure(embed).workerConfig().python(), "the workers take the image's DSPEX_PYTHON");
    assertEquals(python, settings.withLocalPython(embed).workerConfig().python());
  }
}
