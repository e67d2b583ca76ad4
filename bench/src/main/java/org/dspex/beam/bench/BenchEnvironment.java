package org.dspex.beam.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the benchmark finds the venv and the repo, and how it describes the machine. */
record BenchEnvironment(Path root, Path python) {
  static BenchEnvironment fromSystemProperties() {
    Path root = Path.of(System.getProperty("dspex.root", ".")).toAbsolutePath().normalize();
    Path python = Path.of(System.getProperty("dspex.python", root.resolve(".venv/bin/python").toString()));
    return new BenchEnvironment(root, python);
  }

  Path results() {
    return root.resolve("bench/results");
  }

  Path work(String name) throws IOException {
    Path dir = root.resolve("bench/work").resolve(name);
    Files.createDirectories(dir);
    return dir;
  }

  Path peer(String script) {
    return root.resolve("bench/py").resolve(script);
  }

  /** Cores, memory, CPU model, Java and OS: enough to compare runs across machines. */
  static String machine() {
    String cpu = "unknown cpu";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          cpu = line.substring(line.indexOf(':') + 1).trim();
          break;
        }
      }
    } catch (IOException e) {
      // Not Linux: the rest of the description still identifies the machine.
    }
    long memGiB = 0;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          memGiB = Math.round(Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0);
          break;
        }
      }
    } catch (IOException e) {
      // As above.
    }
    return String.format(
        "%d cores, %d GiB, %s, Java %s, %s %s",
        Runtime.getRuntime().availableProcessors(),
        memGiB,
        cpu,
        System.getProperty("java.version"),
        System.getProperty("os.name"),
        System.getProperty("os.arch"));
  }
}
