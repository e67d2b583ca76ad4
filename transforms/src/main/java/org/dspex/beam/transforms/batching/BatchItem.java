package org.dspex.beam.transforms.batching;

import java.util.List;

/**
 * One element on its way through a worker: what is sent for it, how often it was sent, and its
 * outcome once known (output values, or a failure). An outcome, once set, is never replaced: a
 * result kept from a stream is not asked for again after a crash.
 */
public final class BatchItem {
  private final Object payload;
  private final long bytes;
  private int sent;
  private int crashes;
  private List<Object> outputs;
  private String errorType;
  private String errorMessage;
  private String worker;

  /** An element whose request value is {@code payload} (a record map, or a text), of {@code bytes}. */
  public BatchItem(Object payload, long bytes) {
    this.payload = payload;
    this.bytes = bytes;
  }

  /** What is sent for this element. */
  public Object payload() {
    return payload;
  }

  /** Its size as measured for the batch limits. */
  public long bytes() {
    return bytes;
  }

  /** Times it was sent. */
  public synchronized int sent() {
    return sent;
  }

  synchronized void markSent() {
    sent++;
  }

  /** Times a request holding it failed with a worker fault (crash, hang) before it had a result. */
  public synchronized int crashes() {
    return crashes;
  }

  synchronized void markCrashed() {
    crashes++;
  }

  /** Whether it has an outcome. */
  public synchronized boolean done() {
    return outputs != null || errorType != null;
  }

  /** Whether it succeeded. */
  public synchronized boolean ok() {
    return outputs != null;
  }

  /** The output values (in output-schema order), or null. */
  public synchronized List<Object> outputs() {
    return outputs;
  }

  /** The failure's type, or null. */
  public synchronized String errorType() {
    return errorType;
  }

  /** The failure's message, or null. */
  public synchronized String errorMessage() {
    return errorMessage;
  }

  /** The worker it failed on, when known. */
  public synchronized String worker() {
    return worker;
  }

  synchronized void succeed(List<Object> values) {
    if (!done()) {
      outputs = values;
    }
  }

  synchronized void fail(String type, String message, String onWorker) {
    if (!done()) {
      errorType = type;
      errorMessage = message;
      worker = onWorker;
    }
  }
}
