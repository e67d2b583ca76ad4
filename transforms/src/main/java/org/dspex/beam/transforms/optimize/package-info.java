/**
 * What {@code DSPexOptimize} runs on: the example check that splits off unusable examples, the
 * DoFn that ships every example to one worker and streams the compile's progress, and the result
 * and progress values.
 */
package org.dspex.beam.transforms.optimize;
