/**
 * Beam transforms that run DSPy programs ({@link org.dspex.beam.transforms.DSPexPredict}) and
 * embedding models ({@link org.dspex.beam.transforms.DSPexEmbed}) in Python worker processes, with
 * typed outputs and per-element failures ({@link org.dspex.beam.transforms.DSPexResult}).
 *
 * <p>Subpackages, one concern each: {@code signature} (DSPy signature strings to Beam schemas),
 * {@code config} (settings shared by both transforms), {@code input} (every supported input to
 * rows), {@code batching} (the batching DoFns, retries and bisection, model clients, cost control),
 * {@code failures} (failure rows, BadRecord conversion), {@code metrics} (the {@code dspex} Beam
 * metrics).
 */
package org.dspex.beam.transforms;
