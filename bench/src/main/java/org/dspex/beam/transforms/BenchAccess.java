package org.dspex.beam.transforms;

import org.dspex.beam.connector.worker.WorkerConfig;

/**
 * For {@code bench/run embed|predict} only: the connector configuration a transform's DoFns
 * acquire their pool with, so the benchmark can hold that pool across pipelines and keep worker
 * start and model load out of the timed runs. Lives in the transforms' package (split package,
 * class path only) because those settings are package-private; mirrors {@code
 * EmbedClient/PredictClient.workerConfig()}. The benchmarks check that the held pool served the
 * timed run (its request count grows, its start count does not), so a drift here shows.
 */
public final class BenchAccess {
  private BenchAccess() {}

  public static WorkerConfig workerConfig(DSPexEmbed t) {
    return t.execution().workerConfig(t.setupArgs(), t.apiKeyEnv());
  }

  public static WorkerConfig workerConfig(DSPexPredict t) {
    return t.execution().workerConfig(t.setupArgs(), t.apiKeyEnv());
  }
}
