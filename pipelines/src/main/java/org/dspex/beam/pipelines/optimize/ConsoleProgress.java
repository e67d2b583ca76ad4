package org.dspex.beam.pipelines.optimize;

import org.dspex.beam.transforms.optimize.OptimizeProgress;
import org.dspex.beam.transforms.optimize.OptimizeProgressListener;

/**
 * The compile's progress on the command's stderr, one line per event ({@code dspex optimize: 0:12
 * compile: bootstrapped demo 2 after 3 attempts (6 LM calls, 2 demos, 0 trials)}). The DoFn runs in
 * the command's JVM on the DirectRunner and on Flink's local cluster; on a remote cluster the
 * lines go to the stderr of the machine that compiles.
 */
public final class ConsoleProgress implements OptimizeProgressListener {
  private static final long serialVersionUID = 1L;

  @Override
  public void onProgress(OptimizeProgress progress) {
    System.err.println("dspex optimize: " + progress.line());
    System.err.flush();
  }
}
