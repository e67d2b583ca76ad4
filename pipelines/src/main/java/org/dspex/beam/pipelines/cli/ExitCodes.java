package org.dspex.beam.pipelines.cli;

import java.io.PrintWriter;
import org.dspex.beam.pipelines.JobRunner;
import org.dspex.beam.pipelines.UsageError;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * The command's exit codes, and the picocli handlers that map errors to them: {@value #OK} done
 * with the failure rate within {@code --max-failure-rate}; {@value #JOB_FAILED} the job itself
 * failed; {@value #USAGE} bad usage (one line, never a stack trace); {@value #TOO_MANY_FAILURES}
 * done, but more records failed than {@code --max-failure-rate} allows. Errors print as {@code
 * dspex: error: <message>} on stderr; the stack trace only with {@code --verbose}.
 */
public final class ExitCodes {
  /** Done; failures within the limit. */
  public static final int OK = 0;
  /** The job failed (e.g. no worker could start, the runner failed). */
  public static final int JOB_FAILED = 1;
  /** Bad usage. */
  public static final int USAGE = 2;
  /** Done, with a failure rate above {@code --max-failure-rate}. */
  public static final int TOO_MANY_FAILURES = 3;

  private ExitCodes() {}

  /** The code of a job that ran to its end. */
  public static int of(JobRunner.Outcome outcome) {
    return outcome == JobRunner.Outcome.DONE ? OK : TOO_MANY_FAILURES;
  }

  /** Installs the handlers on {@code cli}. */
  public static CommandLine install(CommandLine cli) {
    return cli.setParameterExceptionHandler(ExitCodes::parameterError)
        .setExecutionExceptionHandler(ExitCodes::executionError);
  }

  private static int parameterError(CommandLine.ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println("dspex: error: " + e.getMessage());
    err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage and examples.");
    return USAGE;
  }

  private static int executionError(Exception e, CommandLine cmd, ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    boolean verbose = verbose(parsed);
    Throwable usage = find(e, UsageError.class);
    if (usage != null) {
      err.println("dspex: error: " + usage.getMessage());
      if (verbose) {
        e.printStackTrace(err);
      }
      err.flush();
      return USAGE;
    }
    if (find(e, OutOfMemoryError.class) != null) {
      return outOfMemory(err, e, verbose);
    }
    err.println("dspex: error: the job failed: " + describe(e));
    if (verbose) {
      e.printStackTrace(err);
    } else {
      err.println("(run with --verbose for the stack trace)");
    }
    err.flush();
    return JOB_FAILED;
  }

  /**
   * Reports a JVM out of heap as one line that says what to do, and returns {@link #JOB_FAILED}.
   * Picocli hands errors (not exceptions) straight to the caller, so {@code DSPexCli} calls this
   * for an {@link OutOfMemoryError} thrown outside the job as well.
   */
  public static int outOfMemory(PrintWriter err, Throwable e, boolean verbose) {
    err.println("dspex: error: the job failed: the JVM ran out of memory (heap limit "
        + (Runtime.getRuntime().maxMemory() >> 20) + " MiB). The input is read in blocks, never held"
        + " whole, but the records in flight (batches, a bundle per runner thread, a Parquet row group)"
        + " are; give the JVM more (DSPEX_JAVA_OPTS=-Xmx8g) or run on Flink (--runner FlinkRunner).");
    if (verbose) {
      e.printStackTrace(err);
    }
    err.flush();
    return JOB_FAILED;
  }

  /** The innermost useful message of {@code e}'s cause chain, on one line. */
  public static String describe(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t && isWrapper(t)) {
      t = t.getCause();
    }
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    m = m.replaceAll("\\s*\\R\\s*", " ");
    return m.length() > 500 ? m.substring(0, 497) + "..." : m;
  }

  /** Runner and executor exceptions that only carry their cause. */
  private static boolean isWrapper(Throwable t) {
    String name = t.getClass().getName();
    return t.getMessage() == null
        || t.getMessage().equals(t.getCause().toString())
        || name.endsWith("PipelineExecutionException")
        || name.endsWith("JobExecutionException")
        || name.endsWith("UserCodeException")
        // Flink's job client and restart strategy: "Job failed", "Recovery is suppressed by ..."
        || name.endsWith("ProgramInvocationException")
        || name.equals("org.apache.flink.runtime.JobException")
        || name.endsWith("ExceptionInChainedStubException")
        // FlinkRunner's own wrapper of whatever the job threw.
        || "Pipeline execution failed".equals(t.getMessage())
        || name.endsWith("ExecutionException")
        || name.endsWith("CompletionException");
  }

  private static boolean verbose(ParseResult parsed) {
    ParseResult p = parsed;
    while (p != null) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
      p = p.hasSubcommand() ? p.subcommand() : null;
    }
    return false;
  }

  private static Throwable find(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return t;
      }
    }
    return null;
  }
}
