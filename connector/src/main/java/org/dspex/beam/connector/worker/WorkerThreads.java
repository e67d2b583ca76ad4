package org.dspex.beam.connector.worker;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The JVM-wide daemon threads shared by every worker: a scheduler for timeouts, pings and restart
 * delays (its tasks never block), and a callback pool that completes callers' futures and runs
 * stream listeners, so that no caller code ever runs on a reader thread.
 */
final class WorkerThreads {
  static final ScheduledExecutorService SCHEDULER = scheduler();
  static final ExecutorService CALLBACKS = Executors.newCachedThreadPool(factory("dspex-worker-callback"));
  /** Starts (handshakes, setups) and graceful stops, which block for seconds. */
  static final ExecutorService SUPERVISION = Executors.newCachedThreadPool(factory("dspex-worker-supervisor"));

  private WorkerThreads() {}

  private static ScheduledExecutorService scheduler() {
    ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, factory("dspex-worker-scheduler"));
    s.setRemoveOnCancelPolicy(true);
    return s;
  }

  static ThreadFactory factory(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  static Thread daemon(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    return t;
  }
}
