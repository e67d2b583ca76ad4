package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.connector.worker.WorkerPools;
import org.dspex.beam.transforms.DSPexResult;
import org.dspex.beam.transforms.DSPexTransform;

/**
 * The protocol both transform benchmarks follow: start the direct peer and let it warm up; start
 * and hold the transform's worker pool (model load out of every timing); run one warm-up pipeline;
 * then {@code rounds} rounds of one timed direct pass and one timed DSPex pipeline (DirectRunner,
 * one thread), so a drift of the shared machine's speed hits both sides alike; last, one pipeline
 * with the runner's default thread count. A {@link PassCounter} counts something around every
 * timed pass (the LM server's calls).
 */
final class AlternatingRounds {
  private AlternatingRounds() {}

  /** Counts what one timed pass caused: {@link #reset()} before it, {@link #count()} after. */
  interface PassCounter {
    /** Counts nothing. */
    PassCounter NONE = new PassCounter() {
      @Override
      public void reset() {}

      @Override
      public long count() {
        return 0;
      }
    };

    void reset() throws Exception;

    long count() throws Exception;
  }

  /** Everything measured; rates and ratios over all rounds. */
  record Result(JsonNode directWarm, double setupSeconds, PipelineRun.Result warm, List<JsonNode> directPasses,
      long directCount, List<HeldPoolRun> dspexRuns, long dspexCount, HeldPoolRun runnerDefault,
      long runnerDefaultCount, int itemsPerPass) {

    double directSeconds() {
      return sum("seconds");
    }

    double directCpuSeconds() {
      return sum("cpu_s");
    }

    double directPerSecond() {
      return directPasses.size() * (double) itemsPerPass / directSeconds();
    }

    /** The DSPex pipelines of the rounds as one. */
    HeldPoolRun dspex() {
      return HeldPoolRun.total(dspexRuns);
    }

    double ratio() {
      return dspex().perSecond() / directPerSecond();
    }

    /** Each round's DSPex rate over its direct pass's, rounded to 2 places. */
    List<Double> roundRatios() {
      List<Double> ratios = new ArrayList<>();
      for (int round = 0; round < dspexRuns.size(); round++) {
        ratios.add(EmbedBench.round(dspexRuns.get(round).perSecond() / directPasses.get(round).get("per_s").asDouble()));
      }
      return ratios;
    }

    /** The sum of {@code field} over the direct passes. */
    long directSum(String field) {
      return Math.round(sum(field));
    }

    private double sum(String field) {
      double total = 0;
      for (JsonNode p : directPasses) {
        total += p.get(field).asDouble();
      }
      return total;
    }
  }

  static <T extends DSPexTransform<T>> Result run(BenchEnvironment env, String directScript, List<String> directArgs,
      T transform, List<String> inputs, int rounds, PassCounter counter) throws Exception {
    PTransform<PCollection<?>, DSPexResult> t = transform;
    List<JsonNode> directPasses = new ArrayList<>();
    List<HeldPoolRun> dspexRuns = new ArrayList<>();
    long directCount = 0;
    long dspexCount = 0;
    try (DirectPeer direct = DirectPeer.start(env, directScript, directArgs)) {
      long t0 = System.nanoTime();
      WorkerPool held = WorkerPools.acquire(transform.workerConfig());
      double setupSeconds = (System.nanoTime() - t0) / 1e9;
      try {
        PipelineRun.Result warm = PipelineRun.run(inputs, t, PipelineRun.Parallelism.ONE_THREAD);
        for (int round = 0; round < rounds; round++) {
          counter.reset();
          directPasses.add(direct.timedPass());
          directCount += counter.count();
          counter.reset();
          dspexRuns.add(HeldPoolRun.measure(held, inputs, t, PipelineRun.Parallelism.ONE_THREAD));
          dspexCount += counter.count();
        }
        counter.reset();
        HeldPoolRun runnerDefault = HeldPoolRun.measure(held, inputs, t, PipelineRun.Parallelism.RUNNER_DEFAULT);
        long runnerDefaultCount = counter.count();
        return new Result(direct.warm(), setupSeconds, warm, directPasses, directCount, dspexRuns, dspexCount,
            runnerDefault, runnerDefaultCount, inputs.size());
      } finally {
        WorkerPools.release(held);
      }
    }
  }
}
