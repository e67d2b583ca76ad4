package org.dspex.beam.connector.worker;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.protocol.ElementFailure;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.RemoteError;
import org.dspex.beam.connector.protocol.StreamEvent;

/**
 * Replaces secret values by {@code ***} in every text the Java side produces about a worker: log
 * lines, pumped stderr lines, exception messages, tracebacks, and the element failure messages a
 * worker reports (a handler's LM client may echo its key), so callers never see a secret.
 */
final class Redactor {
  static final String MASK = "***";
  private static final Redactor NONE = new Redactor(List.of());

  private final List<String> secrets;

  private Redactor(List<String> secrets) {
    this.secrets = secrets;
  }

  static Redactor of(Collection<String> values) {
    List<String> list = new ArrayList<>();
    for (String v : values) {
      if (v != null && !v.isEmpty() && !list.contains(v)) {
        list.add(v);
      }
    }
    if (list.isEmpty()) {
      return NONE;
    }
    // Longest first: a secret that contains another must be masked whole.
    list.sort(Comparator.comparingInt(String::length).reversed());
    return new Redactor(List.copyOf(list));
  }

  String redact(String text) {
    if (text == null || secrets.isEmpty()) {
      return text;
    }
    String out = text;
    for (String s : secrets) {
      if (out.contains(s)) {
        out = out.replace(s, MASK);
      }
    }
    return out;
  }

  /** The error with its message and traceback redacted. */
  RemoteError redact(RemoteError e) {
    return new RemoteError(e.type(), redact(e.message()), redact(e.traceback()));
  }

  /** The chunk with its failure messages redacted (the same chunk when nothing changed). */
  StreamEvent.Chunk redact(StreamEvent.Chunk c) {
    if (secrets.isEmpty() || c.failed().isEmpty()) {
      return c;
    }
    List<ElementFailure> failed = redactFailures(c.failed());
    return failed == c.failed() ? c
        : new StreamEvent.Chunk(c.id(), c.indexes(), failed, c.usage(), c.bodies(), c.header());
  }

  /**
   * The response with the messages of its result's {@code failed} list redacted (the same message
   * when nothing changed). Only the typed view readers use ({@code resultMap().get("failed")}) is
   * rewritten; an entry that is not {@code {index, type, message}} is left to the reader to refuse.
   */
  Message redactFailed(Message m) {
    if (secrets.isEmpty() || !(m.resultMap().get("failed") instanceof List)) {
      return m;
    }
    List<?> wire = (List<?>) m.resultMap().get("failed");
    List<Object> out = new ArrayList<>(wire.size());
    boolean changed = false;
    for (Object o : wire) {
      if (o instanceof Map && ((Map<?, ?>) o).get("message") instanceof String) {
        String msg = (String) ((Map<?, ?>) o).get("message");
        String red = redact(msg);
        if (!red.equals(msg)) {
          Map<Object, Object> entry = new LinkedHashMap<>((Map<?, ?>) o);
          entry.put("message", red);
          out.add(entry);
          changed = true;
          continue;
        }
      }
      out.add(o);
    }
    if (!changed) {
      return m;
    }
    Map<String, Object> result = new LinkedHashMap<>(m.resultMap());
    result.put("failed", out);
    Map<String, Object> header = new LinkedHashMap<>(m.header());
    header.put("result", result);
    return new Message(header, m.bodies());
  }

  private List<ElementFailure> redactFailures(List<ElementFailure> failed) {
    List<ElementFailure> out = new ArrayList<>(failed.size());
    boolean changed = false;
    for (ElementFailure f : failed) {
      String red = redact(f.message());
      changed |= !red.equals(f.message());
      out.add(red.equals(f.message()) ? f : new ElementFailure(f.index(), f.type(), red));
    }
    return changed ? out : failed;
  }
}
