package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;

/**
 * DSPexOptimize on a local Flink cluster with parallelism 2: the examples, read in two task slots,
 * are gathered to one worker, and LabeledFewShot and BootstrapFewShot compile there (DSPy's DummyLM).
 */
public class DSPexOptimizeFlinkTest {
  @Rule public final transient TestPipeline p = TestPipeline.fromOptions(PipelineOptionsFactory.fromArgs(
      "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2").create());

  private static Row only(Iterable<Row> rows) {
    List<Row> l = new ArrayList<>();
    rows.forEach(l::add);
    assertEquals(1, l.size());
    return l.get(0);
  }

  @Test
  public void givenFlinkRunner_whenLabeledFewShotCompiles_thenOneRowWithEveryExampleUsed() throws Exception {
    DSPexResult r = p.apply(Create.of(OptimizeExamples.rows()).withRowSchema(OptimizeExamples.SCHEMA))
        .apply(OptimizeExamples.dummyOptimize().withOptimizer("LabeledFewShot").withOptimizerOption("k", 5));
    PAssert.that(r.output()).satisfies(rows -> {
      Row row = only(rows);
      assertEquals(40L + 10L, row.getInt64("trainset_size") + row.getInt64("devset_size"));
      assertEquals(5L, (long) row.getInt64("demos"));
      return null;
    });
    PAssert.that(r.failures()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void givenFlinkRunner_whenBootstrapFewShotCompiles_thenItsDemosAreBootstrappedAndScored() throws Exception {
    DSPexResult r = p.apply(Create.of(OptimizeExamples.rows().subList(0, 10)).withRowSchema(OptimizeExamples.SCHEMA))
        .apply(OptimizeExamples.dummyOptimize().withOptimizer("BootstrapFewShot")
            .withOptimizerOption("max_bootstrapped_demos", 2).withOptimizerOption("max_labeled_demos", 2));
    PAssert.that(r.output()).satisfies(rows -> {
      Row row = only(rows);
      assertEquals("BootstrapFewShot", row.getString("optimizer"));
      assertEquals(2L, (long) row.getInt64("demos"));
      assertEquals(1.0, row.getDouble("dev_score_after"), 0);
      return null;
    });
    p.run().waitUntilFinish();
  }
}
