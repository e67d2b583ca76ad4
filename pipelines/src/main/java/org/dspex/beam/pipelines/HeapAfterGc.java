package org.dspex.beam.pipelines;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether the heap was nearly full after the last garbage collection: the trace an {@link
 * OutOfMemoryError} leaves when a runner swallowed it. The DirectRunner does so in its own threads
 * at times and leaves the job {@code RUNNING}, so the command asks this before reporting that state.
 */
final class HeapAfterGc {
  /** Share of a pool's maximum that counts as full after a collection. */
  static final double FULL = 0.9;

  private HeapAfterGc() {}

  /** Whether some heap pool of this JVM was at least {@link #FULL} after its last collection. */
  static boolean nearlyFull() {
    return nearlyFull(lastCollections());
  }

  /** Whether some usage is at least {@link #FULL} of its (defined) maximum. */
  static boolean nearlyFull(List<MemoryUsage> afterCollections) {
    for (MemoryUsage u : afterCollections) {
      if (u.getMax() > 0 && u.getUsed() >= FULL * u.getMax()) {
        return true;
      }
    }
    return false;
  }

  private static List<MemoryUsage> lastCollections() {
    List<MemoryUsage> usages = new ArrayList<>();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        // Null for a pool the JVM does not measure after collections.
        MemoryUsage u = pool.getCollectionUsage();
        if (u != null) {
          usages.add(u);
        }
      }
    }
    return usages;
  }
}
