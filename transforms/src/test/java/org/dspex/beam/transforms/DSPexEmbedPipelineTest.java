package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.dspex.beam.transforms.failures.Failures;
import org.dspex.beam.transforms.metrics.DSPexMetrics;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/** DSPexEmbed on the DirectRunner, served by the fake embed handler (dim 4: [len(text), 1, 2, 3]). */
public class DSPexEmbedPipelineTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static String keyAndLength(Row r) {
    return r.getString("key") + "=" + r.getArray("embedding").iterator().next();
  }

  /** A failure row's worker with its numbers masked ({@code worker N (pid N)}), or {@code none}. */
  private static String workerShape(Row failure) {
    String w = failure.getString("worker");
    return w == null ? "none" : w.replaceAll("\\d+", "N");
  }

  @Test
  public void givenKeyedTexts_thenEveryKeyGetsItsTextsVectorAndFailuresCarryTheElement() {
    List<KV<String, String>> in = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      String text = "text number " + i;
      in.add(KV.of("k" + i, text));
      expected.add("k" + i + "=" + (float) text.length());
    }
    in.add(KV.of("bad", "please __FAIL__"));
    in.add(KV.of("huge", "x".repeat(300)));
    DSPexResult r = p.apply(Create.of(in))
        .apply(TestSupport.fakeEmbed().withMaxBatchSize(8).withMaxElementBytes(200));

    PAssert.that(r.output().apply("KeyAndLength", MapElements.into(TypeDescriptors.strings()).via(DSPexEmbedPipelineTest::keyAndLength)))
        .containsInAnyOrder(expected);
    PAssert.that(r.failures().apply("FailureSummary", MapElements.into(TypeDescriptors.strings())
            .via(f -> f.getString("error_type") + "|" + f.getString("element") + "|" + f.getInt32("attempts")
                + "|" + workerShape(f))))
        .containsInAnyOrder(
            // The element the worker failed names the worker that served it; the one never sent names none.
            "ValueError|{\"key\":\"bad\",\"text\":\"please __FAIL__\"}|1|worker N (pid N)",
            Failures.ELEMENT_TOO_LARGE + "|{\"key\":\"huge\",\"text\":\"" + "x".repeat(300) + "\"}|0|none");
    PipelineResult result = p.run();
    result.waitUntilFinish();

    MetricQueryResults m = result.metrics().queryMetrics(
        MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace(DSPexMetrics.NAMESPACE)).build());
    assertEquals(52, counter(m, "elements"));
    assertEquals(2, counter(m, "failed_elements"));
    assertTrue(counter(m, "batches") >= 7);
    assertTrue(counter(m, "bytes_numpy") > 0);
    assertEquals(0, counter(m, "retries"));
    boolean sawBatchSize = false;
    boolean sawStartLatency = false;
    for (MetricResult<org.apache.beam.sdk.metrics.DistributionResult> d : m.getDistributions()) {
      if (d.getName().getName().equals("batch_size")) {
        sawBatchSize = true;
        assertTrue(d.getAttempted().getMax() <= 8);
        assertEquals(51, d.getAttempted().getSum());
      }
      if (d.getName().getName().equals("worker_start_latency_millis")) {
        sawStartLatency = d.getAttempted().getCount() >= 1 && d.getAttempted().getMax() > 0;
      }
    }
    assertTrue(sawBatchSize);
    assertTrue(sawStartLatency);
  }

  @Test
  public void givenMaxBatchBytes_thenNoBatchExceedsItAndEveryTextIsEmbeddedOnce() {
    long limit = 100;
    List<KV<String, String>> in = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    long totalBytes = 0;
    for (int i = 0; i < 60; i++) {
      // 10 to 40 characters, so batches close at different counts; a text weighs its UTF-8 bytes + 2.
      String text = ("t" + i + "-" + "y".repeat(40)).substring(0, 10 + (i * 7) % 31);
      in.add(KV.of("k" + i, text));
      expected.add("k" + i + "=" + (float) text.length());
      totalBytes += text.length() + 2;
    }
    DSPexResult r = p.apply(Create.of(in))
        .apply(TestSupport.fakeEmbed().withMaxBatchSize(1000).withMaxBatchBytes(limit));
    // containsInAnyOrder of a list with each key once: a text sent twice would show up twice.
    PAssert.that(r.output().apply("KeyAndLength", MapElements.into(TypeDescriptors.strings()).via(DSPexEmbedPipelineTest::keyAndLength)))
        .containsInAnyOrder(expected);
    PAssert.that(r.failures()).empty();
    PipelineResult result = p.run();
    result.waitUntilFinish();

    MetricQueryResults m = result.metrics().queryMetrics(
        MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace(DSPexMetrics.NAMESPACE)).build());
    assertEquals(0, counter(m, "retries"));
    assertTrue(counter(m, "batches") >= (totalBytes + limit - 1) / limit);
    boolean sawBytes = false;
    boolean sawSize = false;
    for (MetricResult<org.apache.beam.sdk.metrics.DistributionResult> d : m.getDistributions()) {
      if (d.getName().getName().equals("batch_byte_size")) {
        sawBytes = true;
        assertTrue("a batch of " + d.getAttempted().getMax() + " bytes", d.getAttempted().getMax() <= limit);
        assertEquals(totalBytes, d.getAttempted().getSum());
      }
      if (d.getName().getName().equals("batch_size")) {
        sawSize = true;
        assertEquals(60, d.getAttempted().getSum());
      }
    }
    assertTrue(sawBytes);
    assertTrue(sawSize);
  }

  @Test
  public void givenNullAndRejectedTexts_thenNullFailsUnsentAndTheRejectionNamesItsWorker() {
    Schema s = Schema.builder().addStringField("id").addNullableField("text", Schema.FieldType.STRING).build();
    List<Row> rows = List.of(
        Row.withSchema(s).addValues("a", "hello").build(),
        Row.withSchema(s).addValues("b", null).build(),
        Row.withSchema(s).addValues("c", "please __FAIL__").build());
    DSPexResult r = p.apply(Create.of(rows).withRowSchema(s)).apply(TestSupport.fakeEmbed());
    PAssert.that(r.output().apply("Ids", MapElements.into(TypeDescriptors.strings()).via(o -> o.getString("id"))))
        .containsInAnyOrder("a");
    PAssert.that(r.failures().apply("Summary", MapElements.into(TypeDescriptors.strings()).via(f -> {
      String worker = f.getString("worker");
      String shape = worker == null ? "no worker" : worker.matches("worker \\d+ \\(pid \\d+\\)") ? "a worker" : worker;
      return f.getString("error_type") + "|" + f.getInt32("attempts") + "|" + shape + "|"
          + f.getString("message").contains("'text' is null");
    }))).containsInAnyOrder(
        Failures.MISSING_INPUT + "|0|no worker|true",
        "ValueError|1|a worker|false");
    p.run().waitUntilFinish();
  }

  static long counter(MetricQueryResults m, String name) {
    long sum = 0;
    for (MetricResult<Long> c : m.getCounters()) {
      if (c.getName().getName().equals(name)) {
        sum += c.getAttempted();
      }
    }
    return sum;
  }

  @Test
  public void givenWindowedTexts_thenVectorsStayInTheirWindowsWithTheirTimestamps() {
    PCollection<String> texts = p.apply(Create.timestamped(
            TimestampedValue.of("a", new Instant(1_000)),
            TimestampedValue.of("bb", new Instant(2_000)),
            TimestampedValue.of("ccc", new Instant(61_000))))
        .apply(Window.into(FixedWindows.of(Duration.standardMinutes(1))));
    PCollection<String> out = texts.apply(TestSupport.fakeEmbed()).output()
        .apply(MapElements.into(TypeDescriptors.strings()).via(r -> r.getString("text")));
    PAssert.that(out).inWindow(new IntervalWindow(new Instant(0), new Instant(60_000))).containsInAnyOrder("a", "bb");
    PAssert.that(out).inWindow(new IntervalWindow(new Instant(60_000), new Instant(120_000))).containsInAnyOrder("ccc");
    p.run().waitUntilFinish();
  }
}
