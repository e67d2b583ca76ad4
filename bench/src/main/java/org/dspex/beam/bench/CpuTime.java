package org.dspex.beam.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** CPU seconds (user + system) of this JVM and of worker processes, to show where a run's cores went. */
final class CpuTime {
  private CpuTime() {}

  static double jvmSeconds() {
    return jvmNanos() / 1e9;
  }

  static long jvmNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** Sum over {@code pids} from /proc (utime + stime at 100 ticks/s); 0 where unreadable. */
  static double processesSeconds(List<Long> pids) {
    double total = 0;
    for (long pid : pids) {
      try {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        total += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
      } catch (IOException | RuntimeException e) {
        // Not Linux, or the process is gone: leave it out.
      }
    }
    return total;
  }
}
