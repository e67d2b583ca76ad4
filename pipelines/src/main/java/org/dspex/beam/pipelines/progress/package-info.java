/**
 * Progress while a job runs (elements done / total, rate, ETA, failures: a live bar on a terminal,
 * plain lines otherwise, always on stderr) and the summary at the end. The counts come from the
 * job's {@code PipelineResult} metrics on every runner ({@link
 * org.dspex.beam.pipelines.progress.ProgressSource}), and from JVM-local counters ({@link
 * org.dspex.beam.pipelines.progress.JobCounters}) while a runner's blocking {@code run()} has
 * given no result yet (Flink).
 */
package org.dspex.beam.pipelines.progress;
