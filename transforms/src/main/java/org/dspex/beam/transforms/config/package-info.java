/** Settings both transforms share (workers, batching, timeouts, retries), with argument checks. */
package org.dspex.beam.transforms.config;
