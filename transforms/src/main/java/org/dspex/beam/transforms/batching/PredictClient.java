package org.dspex.beam.transforms.batching;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.connector.codec.ArrowTable;
import org.dspex.beam.connector.protocol.ElementFailure;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.dspex.beam.connector.worker.Exclusivity;
import org.dspex.beam.connector.worker.StreamListener;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerCrashedException;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.transforms.failures.ElementJson;
import org.dspex.beam.transforms.failures.Failures;
import org.dspex.beam.transforms.signature.SignatureField;
import org.dspex.beam.transforms.signature.ValueConversion;

/**
 * {@code predict}: records of the signature's inputs go out, typed outputs stream back (section 6
 * of the protocol), each chunk's results reported as they arrive.
 */
public final class PredictClient implements ModelClient {
  private static final long serialVersionUID = 1L;

  private final WorkerConfig workerConfig;
  private final List<String> inputNames;
  private final List<SignatureField> outputs;
  private final String command;

  /**
   * A client for the program that {@code workerConfig} sets up, reading {@code inputNames} from rows
   * and returning {@code outputs}, with requests of {@code command}.
   */
  public PredictClient(WorkerConfig workerConfig, List<String> inputNames, List<SignatureField> outputs,
      String command) {
    this.workerConfig = workerConfig;
    this.inputNames = new ArrayList<>(inputNames);
    this.outputs = new ArrayList<>(outputs);
    this.command = command;
  }

  @Override
  public WorkerConfig workerConfig() {
    return workerConfig;
  }

  @Override
  public Object payload(Row input) {
    Map<String, Object> record = new LinkedHashMap<>();
    for (String name : inputNames) {
      record.put(name, ElementJson.plain(input.getValue(name)));
    }
    return record;
  }

  @Override
  public long payloadBytes(Object payload) {
    return Utf8.length(ElementJson.json(payload));
  }

  @Override
  public CompletableFuture<Void> send(WorkerPool pool, String handle, List<Object> payloads, FormatChoice format,
      BatchSink sink, Exclusivity exclusivity) {
    Request request = Request.of(command)
        .withArg("handle", handle)
        .withArg("n", payloads.size())
        .withArg("stream", true)
        .withBody("inputs", payloads, format)
        .withStream(true);
    AtomicReference<String> worker = new AtomicReference<>();
    return pool.submitStream(request, new StreamListener() {
      @Override
      public void onEvent(StreamEvent event) {
        if (event instanceof StreamEvent.Chunk) {
          onChunk((StreamEvent.Chunk) event, sink);
        }
      }

      @Override
      public void onAssigned(String workerName) {
        worker.set(workerName);
        sink.worker(workerName);
      }
    }, exclusivity).handle((end, err) -> {
      Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
      if (c == null) {
        return null;
      }
      // A listener that threw (a chunk that is not what the protocol says) fails the request; the
      // elements it did report stay reported.
      throw new CompletionException(c instanceof WorkerException ? c
          : new WorkerCrashedException(worker.get(), "stream of '" + command + "' failed: " + c, c));
    });
  }

  private void onChunk(StreamEvent.Chunk chunk, BatchSink sink) {
    List<Map<String, Object>> records = records(chunk.body("outputs"));
    List<Long> indexes = chunk.indexes();
    for (int i = 0; i < indexes.size(); i++) {
      int index = Math.toIntExact(indexes.get(i));
      Map<String, Object> record = records != null && i < records.size() ? records.get(i) : null;
      if (record == null) {
        sink.failed(index, Failures.OUTPUT_TYPE, "the worker reported a result without a record");
        continue;
      }
      try {
        sink.ok(index, typed(record));
      } catch (IllegalArgumentException e) {
        sink.failed(index, Failures.OUTPUT_TYPE, e.getMessage());
      }
    }
    for (ElementFailure f : chunk.failed()) {
      sink.failed(Math.toIntExact(f.index()), f.type(), f.message());
    }
    Map<String, Object> usage = chunk.usage();
    if (usage != null) {
      sink.usage(number(usage.get("prompt_tokens")), number(usage.get("completion_tokens")),
          number(usage.get("calls")));
    }
  }

  private List<Object> typed(Map<String, Object> record) {
    List<Object> values = new ArrayList<>(outputs.size());
    for (SignatureField f : outputs) {
      values.add(ValueConversion.toBeam(f.name(), f.type(), record.get(f.name())));
    }
    return values;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> records(Object body) {
    if (body instanceof ArrowTable) {
      return ((ArrowTable) body).records();
    }
    if (body instanceof List) {
      List<Map<String, Object>> l = new ArrayList<>();
      for (Object o : (List<?>) body) {
        l.add(o instanceof Map ? (Map<String, Object>) o : null);
      }
      return l;
    }
    return null;
  }

  private static long number(Object o) {
    return o instanceof Number ? ((Number) o).longValue() : 0;
  }
}
