package org.dspex.beam.transforms;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Rule;
import org.junit.Test;

/** Both transforms on a local Flink cluster with parallelism 2 (the pool shared by both task slots). */
public class FlinkRunnerTest {
  private static PipelineOptions flink() {
    return PipelineOptionsFactory.fromArgs(
            "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2")
        .create();
  }

  @Rule public final transient TestPipeline p = TestPipeline.fromOptions(flink());

  @Test
  public void givenFlinkRunner_whenPredicting_thenEveryKeyAnsweredOnceAndFailuresKept() {
    List<KV<String, String>> in = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      in.add(KV.of("k" + i, i == 17 ? "q __FAIL__" : "q" + i));
      if (i != 17) {
        expected.add("k" + i + "=answer(q" + i + ")");
      }
    }
    DSPexResult r = p.apply(Create.of(in)).apply(TestSupport.fakePredict("question -> answer").withMaxBatchSize(16));
    PAssert.that(r.output().apply(MapElements.into(TypeDescriptors.strings())
        .via(x -> x.getString("key") + "=" + x.getString("answer")))).containsInAnyOrder(expected);
    PAssert.thatSingleton(r.failures().apply(Count.globally())).isEqualTo(1L);
    p.run().waitUntilFinish();
  }

  @Test
  public void givenFlinkRunner_whenEmbedding_thenEveryTextEmbeddedOnce() {
    List<String> in = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      in.add("text " + i);
      expected.add("text " + i + "=" + (float) ("text " + i).length());
    }
    DSPexResult r = p.apply(Create.of(in)).apply(TestSupport.fakeEmbed().withMaxBatchSize(32));
    PAssert.that(r.output().apply(MapElements.into(TypeDescriptors.strings())
        .via(x -> x.getString("text") + "=" + x.<Float>getArray("embedding").iterator().next())))
        .containsInAnyOrder(expected);
    PAssert.that(r.failures()).empty();
    p.run().waitUntilFinish();
  }
}
