/**
 * The batching DoFns (per bundle for bounded input, GroupIntoBatches for unbounded), the executor
 * that gives every element an outcome (retries, kept stream results, bisection), the model clients
 * for {@code predict} and {@code embed}, and the JVM-wide token budget and rate limit.
 */
package org.dspex.beam.transforms.batching;
