package org.dspex.beam.pipelines;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The threads a job's runner starts in this JVM, kept in a thread group of the job's own, so that
 * a job that failed can wait for the work still in flight before its temporary folder is removed.
 *
 * <p>The DirectRunner's {@code waitUntilFinish} throws at the first failed bundle, while bundles
 * on its other threads run on: one of them writing a shard afterwards recreates the temporary
 * folder the command has just removed. Its pool threads are made by a thread factory created in
 * the thread that calls {@code run()}, so they join that thread's group, and they end once their
 * bundles are done (the runner shuts the pool down when the job ends). Runners whose jobs end only
 * when every task has (Flink) start no such threads here, and waiting costs nothing.
 */
final class JobThreads {
  /** How long a job's end waits for its runner's bundles in flight, at most. */
  static final Duration IN_FLIGHT_WAIT = Duration.ofSeconds(60);

  /** The name the DirectRunner gives each of its pool's threads. */
  static final String DIRECT_RUNNER_POOL = "direct-runner-worker";

  private final ThreadGroup group;

  /** A thread group for the job {@code jobId}. */
  JobThreads(String jobId) {
    group = new ThreadGroup("dspex-job-" + jobId);
  }

  /**
   * Calls {@code p.run()} in a thread of the job's group ({@code dspex-run}): some runners return
   * from it at once, others only when the job ended (Flink), so the caller never blocks on it.
   */
  CompletableFuture<PipelineResult> run(Pipeline p) {
    return CompletableFuture.supplyAsync(p::run, task -> new Thread(group, task, "dspex-run").start());
  }

  /**
   * Waits until the runner's pool threads in the job's group have ended, for {@code limit} at most.
   *
   * @return whether they all ended
   */
  boolean awaitInFlight(Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    // Looked up again after each join: the pool may start a thread until the runner shuts it down.
    for (Thread t = livePoolThread(); t != null; t = livePoolThread()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      t.join(Math.max(1, left / 1_000_000));
    }
    return true;
  }

  private @Nullable Thread livePoolThread() {
    Thread[] threads = new Thread[group.activeCount() + 16];
    int n = group.enumerate(threads, true);
    for (int i = 0; i < n; i++) {
      if (threads[i].isAlive() && threads[i].getName().startsWith(DIRECT_RUNNER_POOL)) {
        return threads[i];
      }
    }
    return null;
  }
}
