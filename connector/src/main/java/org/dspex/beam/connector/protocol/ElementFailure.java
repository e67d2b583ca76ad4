package org.dspex.beam.connector.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One element of a batch that failed on the worker (an entry of {@code failed}): the element
 * itself, not the batch, is what went wrong.
 *
 * @param index the element's index in the request
 * @param type the worker's exception class
 * @param message what happened
 */
public record ElementFailure(long index, String type, String message) {
  /**
   * Reads a {@code failed} list.
   *
   * @throws IllegalArgumentException when an entry is not {@code {index, type, message}}
   */
  public static List<ElementFailure> listFromWire(Object failed) {
    List<ElementFailure> out = new ArrayList<>();
    if (failed == null) {
      return out;
    }
    if (!(failed instanceof List)) {
      throw new IllegalArgumentException("'failed' is not a list: " + failed);
    }
    for (Object o : (List<?>) failed) {
      if (!(o instanceof Map) || !(((Map<?, ?>) o).get("index") instanceof Long)) {
        throw new IllegalArgumentException("'failed' entry without an integer index: " + o);
      }
      Map<?, ?> m = (Map<?, ?>) o;
      out.add(
          new ElementFailure(
              (Long) m.get("index"), String.valueOf(m.get("type")), String.valueOf(m.get("message"))));
    }
    return out;
  }
}
