package org.dspex.examples;

import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.transforms.DSPexEmbed;
import org.dspex.beam.transforms.DSPexResult;

/**
 * Embeds a few lines with DSPexEmbed on the DirectRunner and prints each vector's dimension. No Python
 * is configured: on first use the connector builds the workers' venv itself (in {@code
 * $XDG_CACHE_HOME/dspex}, else {@code ~/.cache/dspex}); later runs start at once. Exits 1 unless every
 * line came back as a 384-dimensional vector.
 */
public final class EmbedQuickstart {
  private static final List<String> LINES = List.of(
      "In the beginning God created the heaven and the earth.",
      "Apache Beam runs batch and streaming pipelines.",
      "DSPy programs language models.");

  private EmbedQuickstart() {}

  /** Prints {@code dimension 384: <text>} per line. */
  static final class PrintDimension extends DoFn<Row, Void> {
    private final Counter vectors = Metrics.counter("quickstart", "vectors384");

    @ProcessElement
    public void process(@Element Row row) {
      int dimension = row.getArray(DSPexEmbed.EMBEDDING_FIELD).size();
      System.out.println("dimension " + dimension + ": " + row.getString("text"));
      if (dimension == 384) {
        vectors.inc();
      }
    }
  }

  public static void main(String[] args) {
    Pipeline p = Pipeline.create(PipelineOptionsFactory.fromArgs(args).create());
    DSPexResult result = p.apply(Create.of(LINES))
        .apply(DSPexEmbed.of("sentence-transformers/all-MiniLM-L6-v2").withNormalize(true));
    result.output().apply(ParDo.of(new PrintDimension()));
    PipelineResult run = p.run();
    run.waitUntilFinish();
    MetricQueryResults metrics = run.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named("quickstart", "vectors384")).build());
    long ok = 0;
    for (MetricResult<Long> c : metrics.getCounters()) {
      ok += c.getAttempted();
    }
    System.out.println(ok + " of " + LINES.size() + " lines embedded as 384-dimensional vectors");
    System.exit(ok == LINES.size() ? 0 : 1);
  }
}
