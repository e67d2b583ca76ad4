package org.dspex.beam.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.connector.worker.WorkerPools;
import org.dspex.beam.transforms.DSPexResult;
import org.dspex.beam.transforms.DSPexTransform;

/**
 * The protocol the transform benchmarks follow: start the direct peers and let each warm up; start
 * and hold the transform's worker pool (model load out of every timing); run one warm-up pipeline;
 * then {@code rounds} rounds of one timed pass of each peer, in turn, and one timed DSPex pipeline
 * (DirectRunner, one thread), so a drift of the shared machine's speed hits every side alike; last,
 * one pipeline with the runner's default thread count. A {@link PassCounter} counts something
 * around every timed pass (the LM server's calls).
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
  record Result(List<PeerPasses> peers, double setupSeconds, PipelineRun.Result warm, List<HeldPoolRun> dspexRuns,
      long dspexCount, HeldPoolRun runnerDefault, long runnerDefaultCount) {

    /** The DSPex pipelines of the rounds as one. */
    HeldPoolRun dspex() {
      return HeldPoolRun.total(dspexRuns);
    }

    /** The peer called {@code name}. */
    PeerPasses peer(String name) {
      for (PeerPasses p : peers) {
        if (p.peer().name().equals(name)) {
          return p;
        }
      }
      throw new IllegalArgumentException("no peer " + name);
    }

    /** DSPex's rate over the peer's, over all rounds. */
    double ratio(PeerPasses peer) {
      return dspex().perSecond() / peer.perSecond();
    }

    /** Each round's DSPex rate over the peer's pass of that round, rounded to 2 places. */
    List<Double> roundRatios(PeerPasses peer) {
      List<Double> ratios = new ArrayList<>();
      for (int round = 0; round < dspexRuns.size(); round++) {
        ratios.add(EmbedBench.round(dspexRuns.get(round).perSecond() / peer.perSecond(round)));
      }
      return ratios;
    }

    /** {@link #roundRatios} of every peer, by name. */
    Map<String, List<Double>> roundRatiosByPeer() {
      Map<String, List<Double>> out = new LinkedHashMap<>();
      for (PeerPasses p : peers) {
        out.put(p.peer().name(), roundRatios(p));
      }
      return out;
    }
  }

  static <T extends DSPexTransform<T>> Result run(BenchEnvironment env, List<Peer> peers, T transform,
      List<String> inputs, int rounds, PassCounter counter) throws Exception {
    PTransform<PCollection<?>, DSPexResult> t = transform;
    List<DirectPeer> started = new ArrayList<>();
    try {
      for (Peer peer : peers) {
        started.add(DirectPeer.start(env, peer));
      }
      List<List<com.fasterxml.jackson.databind.JsonNode>> passes = new ArrayList<>();
      long[] counts = new long[peers.size()];
      for (int i = 0; i < peers.size(); i++) {
        passes.add(new ArrayList<>());
      }
      List<HeldPoolRun> dspexRuns = new ArrayList<>();
      long dspexCount = 0;
      long t0 = System.nanoTime();
      WorkerPool held = WorkerPools.acquire(transform.workerConfig());
      double setupSeconds = (System.nanoTime() - t0) / 1e9;
      try {
        PipelineRun.Result warm = PipelineRun.run(inputs, t, PipelineRun.Parallelism.ONE_THREAD);
        for (int round = 0; round < rounds; round++) {
          for (int i = 0; i < peers.size(); i++) {
            counter.reset();
            passes.get(i).add(started.get(i).timedPass());
            counts[i] += counter.count();
          }
          counter.reset();
          dspexRuns.add(HeldPoolRun.measure(held, inputs, t, PipelineRun.Parallelism.ONE_THREAD));
          dspexCount += counter.count();
        }
        counter.reset();
        HeldPoolRun runnerDefault = HeldPoolRun.measure(held, inputs, t, PipelineRun.Parallelism.RUNNER_DEFAULT);
        long runnerDefaultCount = counter.count();
        List<PeerPasses> measured = new ArrayList<>();
        for (int i = 0; i < peers.size(); i++) {
          measured.add(new PeerPasses(peers.get(i), started.get(i).warm(), passes.get(i), counts[i], inputs.size()));
        }
        return new Result(measured, setupSeconds, warm, dspexRuns, dspexCount, runnerDefault, runnerDefaultCount);
      } finally {
        WorkerPools.release(held);
      }
    } finally {
      for (DirectPeer p : started) {
        p.close();
      }
    }
  }
}
