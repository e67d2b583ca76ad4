package org.dspex.beam.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The Python workers under some JVMs, and their resident memory, from {@code /proc}. */
final class WorkerProcesses {
  /** What a worker's command line holds: the production worker's module. */
  static final String WORKER_MODULE = "dspex_worker";

  private WorkerProcesses() {}

  /** Workers running now under any of {@code roots}, and the sum of their resident memory. */
  static Rss rss(List<Long> roots) {
    long bytes = 0;
    int count = 0;
    for (long root : roots) {
      for (ProcessHandle p : ProcessHandle.of(root).map(h -> h.descendants().toList()).orElse(List.of())) {
        if (isWorker(p.pid())) {
          long b = residentBytes(p.pid());
          if (b > 0) {
            bytes += b;
            count++;
          }
        }
      }
    }
    return new Rss(count, bytes);
  }

  /** Workers counted and their summed resident set, bytes. */
  record Rss(int workers, long bytes) {}

  private static boolean isWorker(long pid) {
    try {
      String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")));
      return cmd.contains(WORKER_MODULE) && cmd.contains("python");
    } catch (IOException e) {
      return false;
    }
  }

  /** VmRSS of {@code /proc/PID/status}; 0 for a process that ended meanwhile. */
  static long residentBytes(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Ended between the listing and the read.
    }
    return 0;
  }
}
