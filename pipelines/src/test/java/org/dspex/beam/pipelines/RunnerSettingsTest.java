package org.dspex.beam.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

/**
 * The runner options the command builds: its own options mapped for the DirectRunner and Flink,
 * everything after {@code --} through Beam's parser, and one-line usage errors that name the option.
 */
class RunnerSettingsTest {
  private static RunnerSettings settings(String runner, Integer parallelism, String... beamArgs) {
    return RunnerSettings.of(runner, RunnerSettings.LOCAL_FLINK, parallelism, List.of(beamArgs));
  }

  private static String usageError(String runner, Integer parallelism, String... beamArgs) {
    UsageError e = assertThrows(UsageError.class, () -> settings(runner, parallelism, beamArgs));
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e.getMessage();
  }

  @Test
  void directRunnerDefaultsToOneThread() {
    DirectOptions o = settings("DirectRunner", null).pipelineOptions().as(DirectOptions.class);
    assertEquals(RunnerSettings.DIRECT_DEFAULT_PARALLELISM, o.getTargetParallelism());
    assertEquals(1, o.getTargetParallelism());
  }

  @Test
  void explicitParallelismWinsOnEitherRunner() {
    assertEquals(3, settings("DirectRunner", 3).pipelineOptions().as(DirectOptions.class)
        .getTargetParallelism());
    assertEquals(2, settings("FlinkRunner", 2).pipelineOptions().as(FlinkPipelineOptions.class)
        .getParallelism());
  }

  @Test
  void flinkKeepsItsOwnDefault() {
    FlinkPipelineOptions o = settings("FlinkRunner", null).pipelineOptions().as(FlinkPipelineOptions.class);
    assertEquals(PipelineOptionsFactory.as(FlinkPipelineOptions.class).getParallelism(), o.getParallelism());
    assertEquals(RunnerSettings.LOCAL_FLINK, o.getFlinkMaster());
  }

  @Test
  void givenTheDirectRunner_thenItRunsNonBlockingWithTheTestChecksOff() {
    DirectOptions o = settings("direct", null).pipelineOptions().as(DirectOptions.class);
    assertEquals(DirectRunner.class, o.getRunner());
    assertFalse(o.isBlockOnRun());
    assertFalse(o.isEnforceImmutability());
    assertFalse(o.isEnforceEncodability());
  }

  @Test
  void givenBeamOptionsAfterTheSeparator_thenTheyReachTheRunnerAndOverrideTheCommandsDefaults() {
    DirectOptions d = settings("DirectRunner", null, "--jobName=nightly", "--blockOnRun=true")
        .pipelineOptions().as(DirectOptions.class);
    assertEquals("nightly", d.getJobName());
    assertTrue(d.isBlockOnRun());
    assertFalse(d.isEnforceImmutability());
    FlinkPipelineOptions f = settings("FlinkRunner", 2, "--objectReuse=true", "--maxBundleSize=500")
        .pipelineOptions().as(FlinkPipelineOptions.class);
    assertTrue(f.getObjectReuse());
    assertEquals(500L, f.getMaxBundleSize());
    assertEquals(2, f.getParallelism());
  }

  @Test
  void givenARunnerByItsClassName_thenBeamResolvesIt() {
    RunnerSettings s = settings(DirectRunner.class.getName(), null);
    assertEquals(DirectRunner.class, s.runnerClass());
    assertEquals(DirectRunner.class, s.pipelineOptions().getRunner());
  }

  @Test
  void givenAnUnknownRunner_thenOneLineListingTheRunnersOnTheClasspath() {
    String m = usageError("Spark", null);
    assertTrue(m.startsWith("--runner must be one of the runners on the classpath ("), m);
    assertTrue(m.contains("DirectRunner") && m.contains("FlinkRunner") && m.endsWith("was 'Spark'"), m);
  }

  @Test
  void givenAnUnknownOrBadBeamOption_thenOneLineNamingIt() {
    String unknown = usageError("DirectRunner", null, "--jobName=x", "--targetParalelism=2");
    assertTrue(unknown.startsWith("runner option '--targetParalelism=2': "), unknown);
    assertTrue(unknown.contains("Did you mean 'targetParallelism'?"), unknown);
    String bad = usageError("FlinkRunner", null, "--objectReuse=maybe");
    assertTrue(bad.startsWith("runner option '--objectReuse=maybe': "), bad);
    assertFalse(bad.contains("[Source:"), bad);
  }

  @Test
  void givenTheCommandsOwnOptionsAfterTheSeparator_thenOneLineSayingWhereTheyGo() {
    assertEquals("give --runner before --, not --runner after it", usageError("DirectRunner", null, "--runner=FlinkRunner"));
    assertEquals("give --flink-master before --, not --flinkMaster after it",
        usageError("FlinkRunner", null, "--flinkMaster=host:8081"));
    assertEquals("give --parallelism before --, not --targetParallelism after it",
        usageError("DirectRunner", null, "--targetParallelism=4"));
    assertEquals("runner options go after -- as --name=value; was 'nightly'",
        usageError("DirectRunner", null, "--jobName", "nightly"));
  }

  @Test
  void givenParallelismForARunnerTheCommandDoesNotMap_thenOneLineNamingTheRunner() {
    assertEquals("--parallelism applies to the DirectRunner and the FlinkRunner; give TestFlinkRunner's own"
        + " option after --", usageError("TestFlinkRunner", 2));
  }

  @Test
  void workersRunHereOnTheDirectRunnerAndOnFlinksLocalClusterOnly() {
    assertTrue(settings("DirectRunner", null).runsHere());
    assertTrue(settings("FlinkRunner", null).runsHere());
    assertFalse(RunnerSettings.of("FlinkRunner", "flink-jobmanager:8081", null, List.of()).runsHere());
    assertFalse(settings("TestFlinkRunner", null).runsHere());
    PipelineOptions remote = RunnerSettings.of("FlinkRunner", "flink-jobmanager:8081", null, List.of())
        .pipelineOptions();
    assertEquals(FlinkRunner.class, remote.getRunner());
    assertEquals("flink-jobmanager:8081", remote.as(FlinkPipelineOptions.class).getFlinkMaster());
  }

  @Test
  void givenARunnerWhoseWorkersMayShareThisMachine_thenLocalFilesCountAsSeen() {
    assertTrue(settings("DirectRunner", null).workersSeeLocalFiles());
    assertTrue(RunnerSettings.of("FlinkRunner", "flink-jobmanager:8081", null, List.of()).workersSeeLocalFiles());
    assertTrue(settings(DelegatingTestRunner.class.getName(), null).workersSeeLocalFiles());
  }

  @Test
  void givenTheDataflowRunnerOutsideItsBuild_thenOneLineSaysWhereItIs() {
    for (String name : List.of("DataflowRunner", "dataflow")) {
      String m = usageError(name, null);
      assertTrue(m.startsWith("--runner " + name + ": the DataflowRunner is in the Dataflow build of the command"), m);
      assertTrue(m.contains("./dspex") && m.contains("mvn -DskipTests -pl dataflow -am package"), m);
    }
  }
}
