package org.dspex.beam.pipelines.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.dspex.beam.pipelines.RunnerSettings;
import org.junit.jupiter.api.Test;

/**
 * Progress while a job runs, read the one way the command reads it on every runner: on the
 * DirectRunner from the result's live metrics, on Flink's local cluster (whose {@code run()}
 * blocks, and whose batch tasks publish metrics only when they end) from the JVM-local counts;
 * nothing known where neither exists. The final counts come from the final metrics.
 */
class ProgressSourceTest {
  private static final int RECORDS = 240;

  /** Passes each record on after a pause, so the job runs for seconds. */
  static final class SlowFn extends DoFn<Long, Long> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(@Element Long e, OutputReceiver<Long> out) throws InterruptedException {
      Thread.sleep(15);
      out.output(e);
    }
  }

  /**
   * Runs the job, watching: the most records done that the source, and the result's metrics alone,
   * reported before the end; then the summary's and the final metrics' written counts.
   */
  private static long[] runWatching(RunnerSettings runner) throws Exception {
    String jobId = UUID.randomUUID().toString();
    Pipeline p = Pipeline.create(runner.pipelineOptions());
    p.apply(GenerateSequence.from(0).to(RECORDS))
        .apply(Reshuffle.viaRandomKey())
        .apply(ParDo.of(new SlowFn()))
        .apply(ParDo.of(JobCounters.<Long>counting(jobId, JobCounters.WRITTEN)));
    CompletableFuture<PipelineResult> started =
        CompletableFuture.supplyAsync(p::run, task -> new Thread(task, "test-run").start());
    ProgressSource source = ProgressSource.of(started, jobId);
    long most = 0;
    long mostByMetrics = 0;
    while (!(started.isDone() && started.join().getState().isTerminal())) {
      Snapshot s = source.snapshot();
      if (s != null && s.done() < RECORDS) {
        most = Math.max(most, s.done());
      }
      if (started.isDone()) {
        long m = ProgressSource.metrics(started.join(), true).snapshot().done();
        mostByMetrics = m < RECORDS ? Math.max(mostByMetrics, m) : mostByMetrics;
      }
      Thread.sleep(50);
    }
    PipelineResult result = started.join();
    result.waitUntilFinish();
    return new long[] {most, mostByMetrics, ProgressSource.last(result, jobId).written(),
        ProgressSource.metrics(result, false).snapshot().written()};
  }

  @Test
  void givenTheDirectRunner_whileTheJobRuns_thenItsLiveMetricsCountRecords() throws Exception {
    long[] r = runWatching(RunnerSettings.of(RunnerSettings.DEFAULT_RUNNER, RunnerSettings.LOCAL_FLINK, 2, List.of()));
    assertTrue(r[1] > 0, "some records counted before the end by the result's metrics alone");
    assertTrue(r[0] > 0);
    assertEquals(RECORDS, r[2]);
    assertEquals(RECORDS, r[3], "the final metrics hold every record");
  }

  @Test
  void givenFlinksLocalCluster_whileItsBlockingRunRuns_thenTheLocalCountsMoveAndTheFinalMetricsAreExact()
      throws Exception {
    long[] r = runWatching(RunnerSettings.of("FlinkRunner", RunnerSettings.LOCAL_FLINK, 2, List.of()));
    assertTrue(r[0] > 0, "some records counted before the end, in this JVM");
    assertEquals(0, r[1], "run() returned only at the end");
    assertEquals(RECORDS, r[2]);
    assertEquals(RECORDS, r[3], "the final metrics hold every record");
  }

  @Test
  void givenABlockingRunWhoseStepsRunElsewhere_thenNothingIsKnownUntilItReturns() {
    CompletableFuture<PipelineResult> running = new CompletableFuture<>();
    assertNull(ProgressSource.of(running, UUID.randomUUID().toString()).snapshot());
  }
}
