package org.dspex.beam.bench;

import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.transforms.DSPexResult;

/**
 * One timed pipeline over a worker pool held outside it, with the CPU seconds and pool counters the
 * pipeline used: the JVM's, the workers', requests sent and workers started (0 shows the timed run
 * used the held, warm pool).
 */
record HeldPoolRun(PipelineRun.Result run, double jvmCpuSeconds, double workerCpuSeconds,
    long requests, long workerStarts) {

  /** Runs {@code transform} over {@code inputs} with the DirectRunner's {@code targetParallelism}. */
  static HeldPoolRun measure(WorkerPool held, List<String> inputs,
      PTransform<PCollection<?>, DSPexResult> transform, PipelineRun.Parallelism parallelism) {
    long requests0 = held.stats().requests();
    long starts0 = held.stats().workerStarts();
    double jvm0 = CpuTime.jvmSeconds();
    double worker0 = CpuTime.processesSeconds(held.pids());
    PipelineRun.Result r = PipelineRun.run(inputs, transform, parallelism);
    return new HeldPoolRun(r, CpuTime.jvmSeconds() - jvm0,
        CpuTime.processesSeconds(held.pids()) - worker0,
        held.stats().requests() - requests0, held.stats().workerStarts() - starts0);
  }

  /** The runs as one: seconds, outputs, CPU and counters summed. */
  static HeldPoolRun total(List<HeldPoolRun> runs) {
    double seconds = 0;
    long outputs = 0;
    double wall = 0;
    double jvmInSpan = 0;
    double jvm = 0;
    double worker = 0;
    long requests = 0;
    long starts = 0;
    for (HeldPoolRun r : runs) {
      seconds += r.run.seconds();
      outputs += r.run.outputs();
      wall += r.run.wallSeconds();
      jvmInSpan += r.run.jvmCpuSecondsInSpan();
      jvm += r.jvmCpuSeconds;
      worker += r.workerCpuSeconds;
      requests += r.requests;
      starts += r.workerStarts;
    }
    return new HeldPoolRun(new PipelineRun.Result(seconds, outputs, wall, jvmInSpan), jvm, worker, requests, starts);
  }

  double perSecond() {
    return run.outputs() / run.seconds();
  }

  /**
   * Adds this run as the one with the DirectRunner's default thread count, beside the headline run:
   * its rate, its ratio to {@code peerPerSecond} and the JVM CPU the runner's monitor spin shows in.
   */
  void putAsRunnerDefault(Map<String, Object> out, double peerPerSecond) {
    out.put("runner_default_dspex_per_s", EmbedBench.round(perSecond()));
    out.put("runner_default_ratio", EmbedBench.round(perSecond() / peerPerSecond));
    out.put("runner_default_dspex_outputs", run.outputs());
    out.put("runner_default_dspex_jvm_cpu_seconds", EmbedBench.round(jvmCpuSeconds));
    out.put("runner_default_dspex_jvm_cpu_seconds_in_timed_span", EmbedBench.round(run.jvmCpuSecondsInSpan()));
    out.put("runner_default_dspex_worker_cpu_seconds", EmbedBench.round(workerCpuSeconds));
  }
}
