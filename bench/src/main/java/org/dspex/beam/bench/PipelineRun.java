package org.dspex.beam.bench;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.transforms.DSPexResult;

/**
 * One DirectRunner pipeline: Create(texts) -> mark first -> transform -> mark last. The timed span
 * runs from the first element leaving the mark before the transform to the last output reaching
 * the mark after it (JVM-wide marks: one pipeline at a time).
 */
final class PipelineRun {
  private static final AtomicLong FIRST_IN = new AtomicLong();
  private static final AtomicLong LAST_OUT = new AtomicLong();
  private static final AtomicLong OUTPUTS = new AtomicLong();
  private static final AtomicLong FIRST_IN_CPU = new AtomicLong();
  private static final AtomicLong LAST_OUT_CPU = new AtomicLong();

  /**
   * Seconds from first element in to last output, the outputs counted, the whole run's seconds, and
   * the JVM's CPU seconds within the timed span (pipeline construction and shutdown left out).
   */
  record Result(double seconds, long outputs, double wallSeconds, double jvmCpuSecondsInSpan) {}

  private PipelineRun() {}

  /**
   * The DirectRunner's thread pool. Its monitor task resubmits itself without pause while any bundle
   * is in progress (Beam 2.62; apache/beam#18070), so a pool thread left free by bundles that wait
   * on a worker spins a whole core. One thread leaves none free; DSPex keeps every worker busy from
   * one thread (workers + 1 batches in flight), so the README recommends it for DSPex pipelines.
   */
  enum Parallelism {
    /** {@code --targetParallelism=1}. */
    ONE_THREAD,
    /** The runner's default, max(cores, 3) threads. */
    RUNNER_DEFAULT
  }

  static Result run(List<String> inputs, PTransform<PCollection<?>, DSPexResult> transform,
      Parallelism parallelism) {
    FIRST_IN.set(0);
    LAST_OUT.set(0);
    OUTPUTS.set(0);
    FIRST_IN_CPU.set(0);
    LAST_OUT_CPU.set(0);
    PipelineOptions options = PipelineOptionsFactory.create();
    options.setRunner(DirectRunner.class);
    // The DirectRunner's test-time checks encode and compare every element between steps: they
    // catch DoFn bugs, are off on production runners, and are not what a throughput figure is of.
    options.as(DirectOptions.class).setEnforceEncodability(false);
    options.as(DirectOptions.class).setEnforceImmutability(false);
    if (parallelism == Parallelism.ONE_THREAD) {
      options.as(DirectOptions.class).setTargetParallelism(1);
    }
    Pipeline p = Pipeline.create(options);
    PCollection<String> in = p.apply("Inputs", Create.of(inputs).withCoder(StringUtf8Coder.of()))
        .apply("MarkIn", ParDo.of(new MarkIn()));
    @SuppressWarnings({"unchecked", "rawtypes"})
    DSPexResult r = (DSPexResult) ((PCollection) in).apply("Model", (PTransform) transform);
    r.output().apply("MarkOut", ParDo.of(new MarkOut()));
    long t0 = System.nanoTime();
    PipelineResult.State state = p.run().waitUntilFinish();
    double wall = (System.nanoTime() - t0) / 1e9;
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("pipeline ended " + state);
    }
    return new Result((LAST_OUT.get() - FIRST_IN.get()) / 1e9, OUTPUTS.get(), wall,
        (LAST_OUT_CPU.get() - FIRST_IN_CPU.get()) / 1e9);
  }

  static final class MarkIn extends DoFn<String, String> {
    @ProcessElement
    public void process(@Element String s, OutputReceiver<String> out) {
      if (FIRST_IN.compareAndSet(0, System.nanoTime())) {
        FIRST_IN_CPU.set(CpuTime.jvmNanos());
      }
      out.output(s);
    }
  }

  static final class MarkOut extends DoFn<Row, Void> {
    @ProcessElement
    public void process(@Element Row r) {
      OUTPUTS.incrementAndGet();
      LAST_OUT.accumulateAndGet(System.nanoTime(), Math::max);
      LAST_OUT_CPU.accumulateAndGet(CpuTime.jvmNanos(), Math::max);
    }
  }
}
