package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * What one direct peer measured in a run of {@link AlternatingRounds}: its warm-up line, one timed
 * pass per round, and what the {@link AlternatingRounds.PassCounter} counted around them.
 */
record PeerPasses(Peer peer, JsonNode warm, List<JsonNode> passes, long count, int itemsPerPass) {

  double seconds() {
    return sum("seconds");
  }

  double cpuSeconds() {
    return sum("cpu_s");
  }

  double perSecond() {
    return passes.size() * (double) itemsPerPass / seconds();
  }

  /** The rate of round {@code round}'s pass. */
  double perSecond(int round) {
    return passes.get(round).get("per_s").asDouble();
  }

  /** The sum of {@code field} over the passes, rounded. */
  long sumRounded(String field) {
    return Math.round(sum(field));
  }

  private double sum(String field) {
    double total = 0;
    for (JsonNode p : passes) {
      total += p.get(field).asDouble();
    }
    return total;
  }
}
