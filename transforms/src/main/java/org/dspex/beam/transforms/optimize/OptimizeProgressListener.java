package org.dspex.beam.transforms.optimize;

import java.io.Serializable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives a compile's progress events in the DoFn that runs it, on the machine that runs the
 * worker (on a cluster: a worker machine's log). Serializable: it travels with the pipeline.
 */
@FunctionalInterface
public interface OptimizeProgressListener extends Serializable {
  /** One event; called on the DoFn's thread, in order. */
  void onProgress(OptimizeProgress progress);

  /** The default: each event as an INFO line of the logger {@code org.dspex.beam.transforms.DSPexOptimize}. */
  static OptimizeProgressListener logging() {
    return new Logging();
  }

  /** Logs each event (see {@link #logging()}). */
  final class Logging implements OptimizeProgressListener {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger("org.dspex.beam.transforms.DSPexOptimize");

    @Override
    public void onProgress(OptimizeProgress progress) {
      LOG.info("optimize {}", progress.line());
    }
  }
}
