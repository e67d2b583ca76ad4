/**
 * Progress while a job runs (elements done / total, rate, ETA, failures: a live bar on a terminal,
 * plain lines otherwise, always on stderr) and the summary at the end.
 */
package org.dspex.beam.pipelines.progress;
