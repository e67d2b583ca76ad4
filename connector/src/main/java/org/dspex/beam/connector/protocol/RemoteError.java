package org.dspex.beam.connector.protocol;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error reported by the worker: a response's {@code error} or a stream's {@code STREAM_ERROR}.
 *
 * @param type the worker's exception class ({@code ValueError}) or a protocol error name
 * @param message what happened
 * @param traceback the worker's traceback, or {@code null}
 */
public record RemoteError(String type, String message, String traceback) {
  /** The type given to a legacy V1 peer's plain-string error. */
  public static final String LEGACY_TYPE = "RemoteError";

  /**
   * Reads an {@code error} value: a map {@code {type, message, traceback?}}, or the plain string of a
   * legacy V1 peer, which becomes {@code {type: "RemoteError", message}}.
   */
  public static RemoteError fromWire(Object error) {
    if (error instanceof String) {
      return new RemoteError(LEGACY_TYPE, (String) error, null);
    }
    if (error instanceof Map) {
      Map<?, ?> m = (Map<?, ?>) error;
      Object type = m.get("type");
      Object message = m.get("message");
      Object traceback = m.get("traceback");
      return new RemoteError(
          type == null ? LEGACY_TYPE : String.valueOf(type),
          message == null ? "" : String.valueOf(message),
          traceback == null ? null : String.valueOf(traceback));
    }
    return new RemoteError(LEGACY_TYPE, String.valueOf(error), null);
  }

  /** The wire form, {@code {type, message, traceback?}}. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", type);
    m.put("message", message);
    if (traceback != null) {
      m.put("traceback", traceback);
    }
    return m;
  }

  @Override
  public String toString() {
    return type + ": " + message;
  }
}
