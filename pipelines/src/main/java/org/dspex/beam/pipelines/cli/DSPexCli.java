package org.dspex.beam.pipelines.cli;

import java.util.Arrays;
import org.dspex.beam.pipelines.PreparedJob;
import org.dspex.beam.pipelines.UsageError;
import picocli.CommandLine;

/**
 * The {@code dspex} command's entry point ({@code java -jar dspex.jar COMMAND ...}; the {@code
 * ./dspex} launcher passes {@code -Ddspex.python=<venv python>}). Logging is quiet (warnings only)
 * unless {@code --verbose}; stdout stays clean, progress and the summary go to stderr. Exits with
 * the codes of {@link ExitCodes}.
 */
public final class DSPexCli {
  private DSPexCli() {}

  /** Runs the command and exits with its code. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command; returns its exit code. */
  public static int run(String... args) {
    boolean verbose = Arrays.asList(args).contains("--verbose") || Arrays.asList(args).contains("-v");
    // slf4j-simple reads these once, when the first logger is made: before anything logs.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    if (!verbose) {
      // Flink's local cluster and Hadoop warn about operator names, tokens and native code; the
      // worker pool logs what the one-line error or the failures file already says.
      for (String noisy : new String[] {"org.apache.flink", "org.apache.hadoop"}) {
        System.setProperty("org.slf4j.simpleLogger.log." + noisy, "error");
      }
      // A failed job is one line (ExitCodes); the runners and Flink's job client would log its stack
      // trace first, on every runner and for every restart.
      for (String failure : new String[] {"org.apache.beam.runners.flink", "org.apache.flink.client",
          "org.apache.flink.runtime.minicluster", "org.apache.beam.runners.dataflow"}) {
        System.setProperty("org.slf4j.simpleLogger.log." + failure, "off");
      }
      System.setProperty("org.slf4j.simpleLogger.log.org.dspex.beam", "off");
      // The DirectRunner logs the stack trace of an error that the one-line error reports.
      System.setProperty("org.slf4j.simpleLogger.log.org.apache.beam.runners.direct", "off");
    }
    keepPekkoOutOfJvmExit();
    CommandLine cli = ExitCodes.install(new CommandLine(new DSPexCommand()));
    try {
      return cli.execute(args);
    } catch (OutOfMemoryError e) {
      return ExitCodes.outOfMemory(cli.getErr(), e, verbose);
    }
  }

  /**
   * The job an {@code embed}, {@code predict} or {@code trainset} command line describes, checked
   * and prepared exactly as the command prepares it, but not run: for tools and tests that build
   * the pipeline the command would run ({@link PreparedJob#pipeline()}) without running it. Close
   * it when done.
   *
   * @param args the command line without {@code dspex}, e.g. {@code "embed", "--input", ...}
   * @throws UsageError for a bad command line, with the message the command would print
   */
  public static PreparedJob prepare(String... args) {
    CommandLine.ParseResult parsed;
    try {
      parsed = new CommandLine(new DSPexCommand()).parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new UsageError(e.getMessage(), e);
    }
    Object command = parsed.hasSubcommand() ? parsed.subcommand().commandSpec().userObject() : null;
    if (!(command instanceof JobCommand)) {
      throw new UsageError("not an embed, predict or trainset command line: " + String.join(" ", args));
    }
    return ((JobCommand) command).prepare();
  }

  /**
   * Flink's local cluster closes itself asynchronously once the job ends, so the command exits while
   * it closes. Pekko's JVM shutdown hook then races that close: when it runs just after Flink has
   * closed the class loader Pekko lives in, it prints a {@code NoClassDefFoundError} for {@code
   * CoordinatedShutdown$JvmExitReason$} after a job that succeeded. The hook has nothing to do for
   * a cluster that ends with this process, so it is off unless the user set it. Pekko reads the
   * system property when Flink creates its actor systems, after this.
   */
  private static void keepPekkoOutOfJvmExit() {
    String hook = "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook";
    if (System.getProperty(hook) == null) {
      System.setProperty(hook, "off");
    }
  }
}
