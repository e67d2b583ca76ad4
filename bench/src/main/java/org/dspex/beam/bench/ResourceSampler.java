package org.dspex.beam.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Samples a running job once a second: the heap of its JVMs (the command's on the DirectRunner,
 * the TaskManagers' on a cluster), in use and right after the latest collection, the summed
 * resident memory of every Python worker under them, and the records done. {@link #summary}
 * turns the samples into the numbers {@code bench/results/scale.json} holds.
 */
final class ResourceSampler implements AutoCloseable {
  static final long INTERVAL_MILLIS = 1000;
  private static final double MIB = 1024.0 * 1024.0;

  /** Records done so far; -1 while unknown. */
  @FunctionalInterface
  interface Progress {
    long done() throws Exception;
  }

  /** One second's reading. */
  record Sample(double seconds, long done, double heapUsedMib, double heapAfterGcMib, int workers,
      double workerRssMib) {}

  private final Supplier<List<Long>> jvms;
  private final Progress progress;
  private final long startNanos = System.nanoTime();
  private final Map<Long, JvmHeap> attached = new HashMap<>();
  private final List<Sample> samples = new ArrayList<>();
  private final Thread thread;
  private volatile boolean running = true;

  /** Starts sampling the JVMs {@code jvms} names (asked at every sample: a cluster's may change). */
  ResourceSampler(Supplier<List<Long>> jvms, Progress progress) {
    this.jvms = jvms;
    this.progress = progress;
    this.thread = new Thread(this::loop, "resource-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    while (running) {
      sample();
      try {
        Thread.sleep(INTERVAL_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void sample() {
    List<Long> pids = jvms.get();
    long used = 0;
    long afterGc = 0;
    for (long pid : pids) {
      JvmHeap heap = heap(pid);
      if (heap == null) {
        continue;
      }
      try {
        used += heap.usedBytes();
        afterGc += Math.max(0, heap.afterLastCollectionBytes());
      } catch (RuntimeException e) {
        // The JVM ended between two samples.
      }
    }
    WorkerProcesses.Rss rss = WorkerProcesses.rss(pids);
    long done;
    try {
      done = progress.done();
    } catch (Exception e) {
      done = -1;
    }
    Sample s = new Sample((System.nanoTime() - startNanos) / 1e9, done, used / MIB, afterGc / MIB, rss.workers(),
        rss.bytes() / MIB);
    synchronized (samples) {
      samples.add(s);
    }
  }

  private JvmHeap heap(long pid) {
    JvmHeap h = attached.get(pid);
    if (h == null && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      try {
        h = JvmHeap.attach(pid, 5000);
        attached.put(pid, h);
      } catch (Exception e) {
        return null;
      }
    }
    return h;
  }

  /** The samples so far. */
  List<Sample> samples() {
    synchronized (samples) {
      return List.copyOf(samples);
    }
  }

  /**
   * The run's numbers: heap in use (median, maximum) and after collections (median, maximum, at
   * 10% and at the end), and the workers' summed resident memory when 10% of {@code elements}
   * were done ({@code _start}) and at the last sample that still saw all the workers ({@code
   * _end}; on a cluster one JVM's workers may stop before another's, and a sum over fewer workers
   * is not the end of the same set).
   */
  Map<String, Object> summary(long elements) {
    List<Sample> all = samples();
    int most = all.stream().mapToInt(Sample::workers).max().orElse(0);
    List<Sample> busy = all.stream().filter(s -> most > 0 && s.workers() == most).toList();
    Sample tenth = busy.stream().filter(s -> s.done() >= elements / 10).findFirst().orElse(null);
    Sample last = busy.isEmpty() ? null : busy.get(busy.size() - 1);
    List<Double> used = all.stream().map(Sample::heapUsedMib).filter(v -> v > 0).toList();
    List<Double> afterGc = all.stream().map(Sample::heapAfterGcMib).filter(v -> v > 0).toList();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("jvm_heap_mib_p50", round(percentile(used, 0.5)));
    m.put("jvm_heap_mib_max", round(percentile(used, 1.0)));
    m.put("jvm_heap_after_gc_mib_p50", round(percentile(afterGc, 0.5)));
    m.put("jvm_heap_after_gc_mib_max", round(percentile(afterGc, 1.0)));
    m.put("jvm_heap_after_gc_mib_start", tenth == null ? null : round(tenth.heapAfterGcMib()));
    m.put("jvm_heap_after_gc_mib_end", last == null ? null : round(last.heapAfterGcMib()));
    m.put("workers", most);
    m.put("worker_rss_mib_start", tenth == null ? null : round(tenth.workerRssMib()));
    m.put("worker_rss_mib_end", last == null ? null : round(last.workerRssMib()));
    m.put("worker_rss_end_vs_start", tenth == null || last == null ? null
        : Math.round(last.workerRssMib() / tenth.workerRssMib() * 1000) / 1000.0);
    m.put("samples", all.size());
    return m;
  }

  static double percentile(List<Double> values, double q) {
    if (values.isEmpty()) {
      return 0;
    }
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    return sorted.get((int) Math.min(sorted.size() - 1, Math.floor(q * (sorted.size() - 1) + 0.5)));
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    attached.values().forEach(JvmHeap::close);
  }
}
