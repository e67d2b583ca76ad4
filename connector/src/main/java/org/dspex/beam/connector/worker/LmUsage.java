package org.dspex.beam.connector.worker;

import java.util.Map;
import org.dspex.beam.connector.protocol.Incoming;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.StreamEvent;

/**
 * LM calls and their tokens, as a {@code usage} map of the protocol carries them ({@code
 * {prompt_tokens, completion_tokens, calls}}, docs/protocol.md section 6).
 */
record LmUsage(long calls, long promptTokens, long completionTokens) {
  static final LmUsage ZERO = new LmUsage(0, 0, 0);

  /** A {@code usage} map; missing or non-numeric entries count 0. */
  static LmUsage of(Map<?, ?> usage) {
    return new LmUsage(number(usage.get("calls")), number(usage.get("prompt_tokens")),
        number(usage.get("completion_tokens")));
  }

  /**
   * What one message from a worker reports: a {@code STREAM_CHUNK}'s {@code usage}, or the {@code
   * usage} in a successful response's result. {@code STREAM_END} repeats its chunks' totals and
   * counts nothing.
   */
  static LmUsage reportedBy(Incoming in) {
    if (in instanceof StreamEvent.Chunk) {
      Map<String, Object> usage = ((StreamEvent.Chunk) in).usage();
      return usage == null ? ZERO : of(usage);
    }
    if (in instanceof Message) {
      Message m = (Message) in;
      if (m.isResponse() && m.success() && m.result() instanceof Map
          && ((Map<?, ?>) m.result()).get("usage") instanceof Map) {
        return of((Map<?, ?>) ((Map<?, ?>) m.result()).get("usage"));
      }
    }
    return ZERO;
  }

  LmUsage plus(LmUsage o) {
    return new LmUsage(calls + o.calls, promptTokens + o.promptTokens, completionTokens + o.completionTokens);
  }

  /** What this holds beyond {@code o}, each count at least 0. */
  LmUsage beyond(LmUsage o) {
    return new LmUsage(Math.max(0, calls - o.calls), Math.max(0, promptTokens - o.promptTokens),
        Math.max(0, completionTokens - o.completionTokens));
  }

  boolean isZero() {
    return calls == 0 && promptTokens == 0 && completionTokens == 0;
  }

  private static long number(Object o) {
    return o instanceof Number ? ((Number) o).longValue() : 0;
  }
}
