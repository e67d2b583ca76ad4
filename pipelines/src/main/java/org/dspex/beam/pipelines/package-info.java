/**
 * The {@code dspex} command: {@code embed}, {@code predict} and {@code trainset} over JSONL, CSV or
 * Parquet files, run as Beam pipelines on the DirectRunner or Flink. {@link
 * org.dspex.beam.pipelines.DSPexCli} is the entry point; {@code cli} holds the commands, {@code io}
 * the readers and writers, {@code progress} the console reporting and {@code trainset} the labelling
 * job's Java side.
 */
package org.dspex.beam.pipelines;
