package org.dspex.beam.transforms.batching;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Identical requests of one transform application sent once per JVM: the first element with a
 * payload (the program's input fields) is the <em>leader</em> and is sent; every later element with
 * an equal payload, in any bundle or DoFn instance of the JVM, follows it and takes a copy of its
 * outcome instead of being sent. Shared like {@link SharedCostControl}, by the id fixed when the
 * pipeline was built.
 *
 * <p>Why in the JVM and not with a GroupByKey on the payload: the DirectRunner hands a grouped
 * collection downstream one key per bundle, which would shrink every request to one element, and
 * a grouping holds back all output until the whole input is read. Here the bundles stay as the
 * reader made them. The price: on a cluster, duplicates that land on different machines are each
 * sent once per machine (DSPy's LM cache, shared per machine, answers the later ones without an LM
 * call when they are not in flight at the same time).
 *
 * <p>Settled outcomes are kept for the last {@code capacity} distinct payloads (least recently
 * used go first), so memory stays bounded on any input; an in-flight leader is never dropped while
 * its followers wait (they hold its future).
 */
final class Deduplication {
  private static final Map<String, Deduplication> SHARED = new HashMap<>();

  private final LinkedHashMap<Object, CompletableFuture<BatchItem>> leaders;

  private Deduplication(int capacity) {
    this.leaders = new LinkedHashMap<>(16, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<Object, CompletableFuture<BatchItem>> eldest) {
        return size() > capacity;
      }
    };
  }

  /** The JVM's instance for {@code key}, or null when {@code capacity} is 0 (deduplication off). */
  static @Nullable Deduplication forKey(String key, int capacity) {
    if (capacity <= 0) {
      return null;
    }
    synchronized (SHARED) {
      return SHARED.computeIfAbsent(key, k -> new Deduplication(capacity));
    }
  }

  /**
   * Claims {@code item}'s payload: {@link Claim#leads()} when {@code item} is the leader (send it,
   * then {@link #settle} its claim), else the claim holds the leader's outcome to come.
   */
  synchronized Claim claim(BatchItem item) {
    CompletableFuture<BatchItem> leader = leaders.get(item.payload());
    if (leader != null && !leader.isCompletedExceptionally()) {
      return new Claim(false, leader);
    }
    CompletableFuture<BatchItem> own = new CompletableFuture<>();
    leaders.put(item.payload(), own);
    return new Claim(true, own);
  }

  /**
   * A leader's request is over: its followers copy {@code item}'s outcome; with {@code failure} (no
   * worker could serve, so it has none) the leader is forgotten, so that the bundle the runner
   * retries sends it again, and the followers' bundles fail too.
   */
  void settle(Claim claim, BatchItem item, @Nullable Throwable failure) {
    if (failure == null) {
      claim.outcome().complete(item);
      return;
    }
    synchronized (this) {
      leaders.remove(item.payload(), claim.outcome());
    }
    claim.outcome().completeExceptionally(failure);
  }

  /**
   * An element's claim on its payload.
   *
   * @param leads whether the element is sent (else it copies the outcome)
   * @param outcome the leader's item once its request is over
   */
  record Claim(boolean leads, CompletableFuture<BatchItem> outcome) {}

  /** Gives {@code follower} a copy of the settled {@code leader}'s outcome. */
  static void copy(BatchItem leader, BatchItem follower) {
    if (leader.ok()) {
      follower.succeed(leader.outputs());
    } else {
      follower.fail(leader.errorType(), leader.errorMessage(), leader.worker());
    }
  }
}
