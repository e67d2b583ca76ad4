/**
 * The Java side of {@code dspex optimize}: the examples read from the trainset (and devset) files,
 * {@code DSPexOptimize} over them, the compiled program and its summary written, the unusable
 * examples to the failures file, and the compile's progress on the console.
 */
package org.dspex.beam.pipelines.optimize;
