package org.dspex.beam.transforms.optimize;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.dspex.beam.connector.worker.RemoteHandlerException;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.connector.worker.WorkerPools;
import org.dspex.beam.transforms.metrics.DSPexMetrics;

/**
 * Compiles on one worker: takes the gathered examples (one element, every example), orders and
 * splits them ({@link ExampleSplit}), ships them as one {@code optimize} request (bodies {@code
 * trainset} and {@code devset}, in the transform's format: AUTO picks Arrow from 10,000 examples
 * and a REF file from 64 MiB or above the frame limit), reports the streamed progress to the
 * listener and the Beam metrics on this thread while the compile runs, and outputs the result row.
 *
 * <p>The worker answers health pings while it compiles, and every progress chunk restarts the
 * request timeout's clock, which therefore bounds the longest stretch without progress (one LM
 * call, or a phase of pure computation), not the compile.
 */
public final class OptimizeFn extends DoFn<KV<Integer, Iterable<KV<Boolean, Row>>>, Row> {
  private static final long serialVersionUID = 1L;
  /** How often the DoFn thread reports what the stream brought, in milliseconds. */
  private static final long REPORT_MILLIS = 200;

  private final WorkerConfig config;
  private final FormatChoice format;
  private final double devFraction;
  private final long seed;
  private final boolean devGiven;
  private final OptimizeProgressListener listener;
  private transient WorkerPool pool;
  private transient String handle;
  private transient DSPexMetrics metrics;

  /** A compile with {@code config}'s {@code optimize} setup; see {@link ExampleSplit} for the split. */
  public OptimizeFn(WorkerConfig config, FormatChoice format, double devFraction, long seed, boolean devGiven,
      OptimizeProgressListener listener) {
    this.config = config;
    this.format = format;
    this.devFraction = devFraction;
    this.seed = seed;
    this.devGiven = devGiven;
    this.listener = listener;
  }

  @Setup
  public void setup() throws WorkerException {
    metrics = new DSPexMetrics();
    pool = WorkerPools.acquire(config);
    try {
      List<Map<String, Object>> setups = pool.setupResults();
      handle = String.valueOf(setups.get(setups.size() - 1).get("handle"));
    } catch (WorkerException | RuntimeException e) {
      WorkerPools.release(pool);
      pool = null;
      throw e;
    }
  }

  @ProcessElement
  public void process(@Element KV<Integer, Iterable<KV<Boolean, Row>>> examples, OutputReceiver<Row> out)
      throws InterruptedException {
    ExampleSplit split = ExampleSplit.of(examples.getValue(), devFraction, seed, devGiven);
    Request request = Request.of("optimize").withArg("handle", handle).withArg("stream", true)
        .withBody("trainset", split.train(), format).withStream(true);
    if (!split.dev().isEmpty()) {
      request = request.withBody("devset", split.dev(), format);
    }
    CompileCall call = new CompileCall();
    CompletableFuture<StreamEvent.End> end = pool.submitStream(request, call);
    try {
      while (true) {
        try {
          end.get(REPORT_MILLIS, TimeUnit.MILLISECONDS);
          break;
        } catch (TimeoutException e) {
          report(call);
        }
      }
    } catch (ExecutionException e) {
      throw failed(call, e.getCause());
    } finally {
      report(call);
      metrics.reportPool(pool);
    }
    out.output(OptimizeResult.fromWorker(call.result()));
  }

  private void report(CompileCall call) {
    for (CompileCall.Report r = call.poll(); r != null; r = call.poll()) {
      if (r.calls() > 0) {
        metrics.lmCalls.inc(r.calls());
      }
      if (r.promptTokens() > 0) {
        metrics.lmPromptTokens.inc(r.promptTokens());
      }
      if (r.completionTokens() > 0) {
        metrics.lmCompletionTokens.inc(r.completionTokens());
      }
      if (r.progress() != null) {
        listener.onProgress(r.progress());
      }
    }
  }

  private static CompileFailedException failed(CompileCall call, Throwable cause) {
    if (cause instanceof RemoteHandlerException) {
      RemoteHandlerException r = (RemoteHandlerException) cause;
      return new CompileFailedException("DSPexOptimize: the compile failed on " + call.worker() + ": " + r.type()
          + ": " + r.remoteMessage(), r.type(), r);
    }
    return new CompileFailedException("DSPexOptimize: the compile failed on " + call.worker() + ": " + cause.getMessage(),
        null, cause);
  }

  @Teardown
  public void teardown() {
    if (pool != null) {
      WorkerPools.release(pool);
      pool = null;
    }
  }
}
