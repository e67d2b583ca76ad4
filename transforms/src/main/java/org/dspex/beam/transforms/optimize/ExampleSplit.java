package org.dspex.beam.transforms.optimize;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.transforms.failures.ElementJson;

/**
 * The gathered examples as the worker gets them: in an order that depends on the examples and the
 * seed only (not on the runner's), the dev examples split off by fraction unless a dev set was
 * given. The order is a hash of each example's JSON and the seed, so the same examples and seed
 * compile the same way on every runner.
 *
 * @param train the training examples, as records
 * @param dev the dev examples, as records (may be empty)
 */
public record ExampleSplit(List<Map<String, Object>> train, List<Map<String, Object>> dev) {

  /**
   * Orders and splits {@code examples} (tagged true for dev): with {@code devGiven} the tagged ones
   * are the dev set; otherwise the last {@code round(n * devFraction)} of the order (never all of
   * them: at least one example trains).
   */
  public static ExampleSplit of(Iterable<KV<Boolean, Row>> examples, double devFraction, long seed, boolean devGiven) {
    List<Keyed> train = new ArrayList<>();
    List<Keyed> dev = new ArrayList<>();
    for (KV<Boolean, Row> e : examples) {
      Map<String, Object> record = ElementJson.toMap(e.getValue());
      String json = ElementJson.json(record);
      (devGiven && e.getKey() ? dev : train).add(new Keyed(hash(seed, json), json, record));
    }
    Comparator<Keyed> order = Comparator.comparingLong(Keyed::key).thenComparing(Keyed::json);
    train.sort(order);
    dev.sort(order);
    if (!devGiven && devFraction > 0 && train.size() > 1) {
      int n = (int) Math.min(train.size() - 1, Math.round(train.size() * devFraction));
      dev.addAll(train.subList(train.size() - n, train.size()));
      train.subList(train.size() - n, train.size()).clear();
    }
    return new ExampleSplit(records(train), records(dev));
  }

  private static List<Map<String, Object>> records(List<Keyed> keyed) {
    List<Map<String, Object>> l = new ArrayList<>(keyed.size());
    keyed.forEach(k -> l.add(k.record()));
    return l;
  }

  /** FNV-1a, 64 bits, over the seed and the UTF-8 of the example's JSON. */
  static long hash(long seed, String json) {
    long h = 0xcbf29ce484222325L ^ seed;
    for (byte b : json.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }

  private record Keyed(long key, String json, Map<String, Object> record) {}
}
