package org.dspex.beam.pipelines;

import org.dspex.beam.pipelines.io.InputProbe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

/** The runner options the command builds: the DirectRunner's thread count and Flink's parallelism. */
class JobSettingsTest {
  private static JobSettings settings(JobSettings.Runner runner, Integer parallelism) {
    return new JobSettings("in.jsonl", null, "out.jsonl", false, 0, runner, "[local]", parallelism, 2,
        null, "auto", 0.0, false, InputProbe.DEFAULT_MAX_LINE_BYTES, null, null);
  }

  @Test
  void directRunnerDefaultsToOneThread() {
    DirectOptions o = settings(JobSettings.Runner.DIRECT, null).pipelineOptions().as(DirectOptions.class);
    assertEquals(JobSettings.DIRECT_DEFAULT_PARALLELISM, o.getTargetParallelism());
    assertEquals(1, o.getTargetParallelism());
  }

  @Test
  void explicitParallelismWinsOnEitherRunner() {
    assertEquals(3, settings(JobSettings.Runner.DIRECT, 3).pipelineOptions().as(DirectOptions.class)
        .getTargetParallelism());
    assertEquals(2, settings(JobSettings.Runner.FLINK, 2).pipelineOptions().as(FlinkPipelineOptions.class)
        .getParallelism());
  }

  @Test
  void flinkKeepsItsOwnDefault() {
    FlinkPipelineOptions o = settings(JobSettings.Runner.FLINK, null).pipelineOptions()
        .as(FlinkPipelineOptions.class);
    assertEquals(PipelineOptionsFactory.as(FlinkPipelineOptions.class).getParallelism(), o.getParallelism());
  }
}
