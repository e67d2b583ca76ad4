package org.dspex.beam.transforms;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.junit.Rule;
import org.junit.Test;

/** Streams go through GroupIntoBatches, bounded by size and by the maximum buffering duration. */
public class UnboundedInputTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  @Test
  public void givenStreamSlowerThanBatchSize_thenEveryElementAnsweredAfterTheBufferingDuration() {
    TestStream.Builder<String> events = TestStream.create(StringUtf8Coder.of());
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      events = events.addElements(i == 3 ? "q3 __FAIL__" : "q" + i)
          .advanceProcessingTime(Duration.standardSeconds(2));
      if (i != 3) {
        expected.add("answer(q" + i + ")");
      }
    }
    DSPexResult r = p.apply(events.advanceWatermarkToInfinity())
        .apply(TestSupport.fakePredict("question -> answer").withMaxBatchSize(100)
            .withMaxBufferingDuration(java.time.Duration.ofSeconds(3)));
    PAssert.that(r.output().apply("Answers", MapElements.into(TypeDescriptors.strings()).via(x -> x.getString("answer"))))
        .containsInAnyOrder(expected);
    PAssert.that(r.failures().apply("Types", MapElements.into(TypeDescriptors.strings())
        .via(f -> f.getString("error_type")))).containsInAnyOrder("ValueError");
    p.run().waitUntilFinish();
  }
}
