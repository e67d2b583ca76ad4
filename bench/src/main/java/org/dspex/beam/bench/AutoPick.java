package org.dspex.beam.bench;

import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.protocol.FormatChooser;
import org.dspex.beam.connector.protocol.ProtocolSettings;

/** What the connector's own {@code AUTO} chooses for a benchmark shape, asked on the real data. */
final class AutoPick {
  private AutoPick() {}

  static ContentFormat pick(String kind, int n, ProtocolSettings settings) {
    Object body =
        kind.equals("records")
            ? BenchData.records(n)
            : BenchData.matrix(n, CodecBench.MATRIX_DIM);
    return new FormatChooser(settings).autoContentFormat(body);
  }
}
