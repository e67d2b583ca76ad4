/** Brings rows, schema'd POJOs, strings and keyed strings to rows, checked against what a model needs. */
package org.dspex.beam.transforms.input;
