package org.dspex.beam.pipelines.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.pipelines.JobSettings;
import org.dspex.beam.transforms.DSPexPredict;
import org.dspex.beam.pipelines.UsageError;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --request-timeout} and {@code --stall-timeout}: parsed, checked, and on the workers. */
class CommonOptionsTest {
  private static JobSettings settings(String... more) {
    List<String> args = new ArrayList<>(List.of("--input", "in.jsonl", "--output", "out.jsonl"));
    args.addAll(List.of(more));
    return CommandLine.populateCommand(new CommonOptions(), args.toArray(String[]::new)).settings();
  }

  private static WorkerConfig workers(JobSettings s) {
    return s.configure(DSPexPredict.of("q -> a")).workerConfig();
  }

  @Test
  void givenNoTimeouts_thenTheTransformsDefaults() {
    WorkerConfig c = workers(settings());
    assertEquals(WorkerConfig.DEFAULT_REQUEST_TIMEOUT, c.requestTimeout());
    assertEquals(WorkerConfig.DEFAULT_STALL_TIMEOUT, c.stallTimeout());
  }

  @Test
  void givenTimeouts_thenTheWorkersHaveThem() {
    WorkerConfig c = workers(settings("--request-timeout", "90s", "--stall-timeout", "500ms"));
    assertEquals(Duration.ofSeconds(90), c.requestTimeout());
    assertEquals(Duration.ofMillis(500), c.stallTimeout());
    assertEquals(Duration.ofMinutes(5), workers(settings("--request-timeout", "5m")).requestTimeout());
    assertEquals(Duration.ofHours(1), workers(settings("--request-timeout", "1h")).requestTimeout());
    assertEquals(Duration.ZERO, workers(settings("--stall-timeout", "0")).stallTimeout());
  }

  @Test
  void givenBadTimeouts_thenUsageErrorsNamingTheOption() {
    assertEquals("--request-timeout takes a whole number and a unit, ms, s, m or h (e.g. 90s, 5m), was '1.5m'",
        assertThrows(UsageError.class, () -> settings("--request-timeout", "1.5m")).getMessage());
    assertEquals("--request-timeout must be positive, was 0",
        assertThrows(UsageError.class, () -> settings("--request-timeout", "0")).getMessage());
    assertEquals("--stall-timeout takes a whole number and a unit, ms, s, m or h (e.g. 90s, 5m), was '30'",
        assertThrows(UsageError.class, () -> settings("--stall-timeout", "30")).getMessage());
  }
}
