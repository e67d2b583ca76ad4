package org.dspex.beam.transforms.batching;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.protocol.ElementFailure;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.worker.Exclusivity;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.transforms.failures.Failures;

/**
 * {@code embed}: texts go out, one NUMPY float32 matrix comes back (a row per text, zero rows for
 * the indexes listed in {@code failed}).
 */
public final class EmbedClient implements ModelClient {
  private static final long serialVersionUID = 1L;

  private final WorkerConfig workerConfig;
  private final String textField;
  private final String command;
  private final Boolean normalize;

  /** A client for the model that {@code workerConfig} sets up, embedding {@code textField} of each row. */
  public EmbedClient(WorkerConfig workerConfig, String textField, String command, Boolean normalize) {
    this.workerConfig = workerConfig;
    this.textField = textField;
    this.command = command;
    this.normalize = normalize;
  }

  @Override
  public WorkerConfig workerConfig() {
    return workerConfig;
  }

  @Override
  public @Nullable Object payload(Row input) {
    return input.getString(textField);
  }

  @Override
  public String missingInputMessage() {
    return "the text field '" + textField + "' is null; there is nothing to embed";
  }

  @Override
  public long payloadBytes(Object payload) {
    return Utf8.length((String) payload) + 2;
  }

  @Override
  public CompletableFuture<Void> send(WorkerPool pool, String handle, List<Object> payloads, FormatChoice format,
      BatchSink sink, Exclusivity exclusivity) {
    Request request = Request.of(command).withArg("handle", handle).withArg("n", payloads.size());
    if (normalize != null) {
      request = request.withArg("normalize", normalize);
    }
    // Texts are strings, never a numeric array: a forced numeric-array format (NUMPY) applies to
    // the answer, not here.
    FormatChoice textFormat =
        format.forcedFormat() != null && !format.forcedFormat().carriesRecords() ? FormatChoice.AUTO : format;
    return pool.submit(request.withBody("texts", new ArrayList<>(payloads), textFormat), sink::worker, exclusivity)
        .thenAccept(m -> report(m, payloads.size(), sink));
  }

  /** Reports the answer's vectors and failures, by index. */
  private static void report(Message m, int n, BatchSink sink) {
    Set<Integer> failed = new HashSet<>();
    for (ElementFailure f : ElementFailure.listFromWire(m.resultMap().get("failed"))) {
      failed.add(Math.toIntExact(f.index()));
      sink.failed(Math.toIntExact(f.index()), f.type(), f.message());
    }
    float[][] vectors = vectors(m.body("vectors"), n);
    for (int i = 0; i < n; i++) {
      if (failed.contains(i)) {
        continue;
      }
      if (vectors == null || i >= vectors.length) {
        sink.failed(i, Failures.MISSING_RESULT, "the worker's vectors have no row " + i);
        continue;
      }
      List<Float> v = new ArrayList<>(vectors[i].length);
      for (float x : vectors[i]) {
        v.add(x);
      }
      List<Object> values = new ArrayList<>(1);
      values.add(v);
      sink.ok(i, values);
    }
  }

  private static float[][] vectors(Object body, int n) {
    if (body instanceof NdArray) {
      NdArray a = (NdArray) body;
      if (n == 0) {
        return new float[0][];
      }
      return a.toFloatMatrix();
    }
    if (body instanceof List) {
      List<?> rows = (List<?>) body;
      float[][] out = new float[rows.size()][];
      for (int i = 0; i < rows.size(); i++) {
        List<?> r = (List<?>) rows.get(i);
        out[i] = new float[r.size()];
        for (int j = 0; j < r.size(); j++) {
          out[i][j] = ((Number) r.get(j)).floatValue();
        }
      }
      return out;
    }
    return null;
  }
}
