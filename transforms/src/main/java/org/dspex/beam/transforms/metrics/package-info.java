/** The Beam metrics of namespace {@code dspex} (DESIGN.md section 2). */
package org.dspex.beam.transforms.metrics;
