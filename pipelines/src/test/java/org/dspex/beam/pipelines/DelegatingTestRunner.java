package org.dspex.beam.pipelines;

import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.PipelineRunner;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * A runner the command has no code for (given to {@code --runner} by its class name): the
 * DirectRunner with its own defaults, whose {@code run()} blocks until the job ends. Remembers the
 * job name of the last run, so a test sees the options that reached it.
 */
public final class DelegatingTestRunner extends PipelineRunner<PipelineResult> {
  static volatile String lastJobName;
  private final PipelineOptions options;

  private DelegatingTestRunner(PipelineOptions options) {
    this.options = options;
  }

  /** As Beam makes runners. */
  public static DelegatingTestRunner fromOptions(PipelineOptions options) {
    return new DelegatingTestRunner(options);
  }

  @Override
  public PipelineResult run(Pipeline pipeline) {
    lastJobName = options.getJobName();
    return DirectRunner.fromOptions(options).run(pipeline);
  }
}
