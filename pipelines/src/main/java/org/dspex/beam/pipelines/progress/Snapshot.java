package org.dspex.beam.pipelines.progress;

/**
 * Counts of a running or finished job at one moment.
 *
 * @param written records sent to the output
 * @param failed records sent to the failures file
 * @param promptTokens LM prompt tokens (0 for embedding, or when not known yet)
 * @param completionTokens LM completion tokens
 * @param lmCalls LM calls that were paid for (not answered from DSPy's cache)
 */
public record Snapshot(long written, long failed, long promptTokens, long completionTokens, long lmCalls) {
  /** Records finished, either way. */
  public long done() {
    return written + failed;
  }
}
