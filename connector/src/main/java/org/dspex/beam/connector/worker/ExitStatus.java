package org.dspex.beam.connector.worker;

import java.util.Map;

/** Words for a process exit status: {@code SIGKILL / exit code 137}, {@code exit code 3}. */
final class ExitStatus {
  private static final Map<Integer, String> SIGNALS =
      Map.ofEntries(
          Map.entry(1, "SIGHUP"),
          Map.entry(2, "SIGINT"),
          Map.entry(3, "SIGQUIT"),
          Map.entry(4, "SIGILL"),
          Map.entry(6, "SIGABRT"),
          Map.entry(7, "SIGBUS"),
          Map.entry(8, "SIGFPE"),
          Map.entry(9, "SIGKILL"),
          Map.entry(11, "SIGSEGV"),
          Map.entry(13, "SIGPIPE"),
          Map.entry(14, "SIGALRM"),
          Map.entry(15, "SIGTERM"));

  private ExitStatus() {}

  /** Java reports a death by signal N as exit value 128 + N, as shells do. */
  static String describe(int exitValue) {
    String signal = exitValue > 128 ? SIGNALS.get(exitValue - 128) : null;
    return signal == null ? "exit code " + exitValue : signal + " / exit code " + exitValue;
  }
}
