package org.dspex.beam.transforms.optimize;

import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.dspex.beam.connector.worker.StreamListener;

/**
 * The stream of one {@code optimize} request: progress chunks (no index, body {@code progress})
 * and their LM usage are queued for the DoFn's thread, which reports them; the chunk of index 0
 * holds body {@code result}. Runs on the pool's callback threads.
 */
final class CompileCall implements StreamListener {
  /** Something to report on the DoFn's thread: an event (may be null) and the usage that came with it. */
  record Report(OptimizeProgress progress, long calls, long promptTokens, long completionTokens) {}

  private final Queue<Report> reports = new ConcurrentLinkedQueue<>();
  private volatile Map<String, Object> result;
  private volatile String worker = "a worker";

  @Override
  public void onAssigned(String workerName) {
    worker = workerName;
  }

  @Override
  public void onEvent(StreamEvent event) {
    if (!(event instanceof StreamEvent.Chunk)) {
      return;
    }
    StreamEvent.Chunk chunk = (StreamEvent.Chunk) event;
    OptimizeProgress progress = null;
    if (chunk.indexes().isEmpty()) {
      Map<String, Object> record = first(chunk.body("progress"));
      progress = record == null ? null : OptimizeProgress.fromWorker(record);
    } else {
      result = first(chunk.body("result"));
      if (result == null) {
        throw new IllegalStateException(worker + " ended the compile without a result record");
      }
    }
    Map<String, Object> usage = chunk.usage();
    reports.add(new Report(progress, usage == null ? 0 : OptimizeProgress.number(usage.get("calls")),
        usage == null ? 0 : OptimizeProgress.number(usage.get("prompt_tokens")),
        usage == null ? 0 : OptimizeProgress.number(usage.get("completion_tokens"))));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> first(Object body) {
    return body instanceof List && !((List<?>) body).isEmpty() && ((List<?>) body).get(0) instanceof Map
        ? (Map<String, Object>) ((List<?>) body).get(0) : null;
  }

  /** The next report, or null. */
  Report poll() {
    return reports.poll();
  }

  /** The result record, once its chunk came. */
  Map<String, Object> result() {
    return result;
  }

  /** The worker the request went to. */
  String worker() {
    return worker;
  }
}
