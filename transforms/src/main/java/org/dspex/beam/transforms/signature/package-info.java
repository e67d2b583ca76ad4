/** DSPy signature strings parsed in Java: input names, typed output schemas, value conversion. */
package org.dspex.beam.transforms.signature;
