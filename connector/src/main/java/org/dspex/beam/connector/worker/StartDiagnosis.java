package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dspex.beam.connector.protocol.ProtocolException;
import org.dspex.beam.connector.worker.WorkerStartException.Reason;

/**
 * Turns a failed start (the error from {@code hello}, the exit status, the last stderr lines) into a
 * {@link WorkerStartException} that says what is wrong and what to do, rather than the stack trace
 * of wherever it went wrong.
 */
final class StartDiagnosis {
  private static final Pattern NO_MODULE = Pattern.compile("No module named '?([\\w.]+)'?");

  private StartDiagnosis() {}

  /**
   * @param name the worker, e.g. {@code worker 3 (pid 1234)}
   * @param exit the exit status, or {@code null} if it still ran (then it was killed)
   * @param timedOut whether it was killed for the start timeout
   */
  static WorkerStartException diagnose(
      String name, WorkerLaunch launch, IOException error, Integer exit, boolean timedOut,
      List<String> stderr, String stderrSuffix, Redactor redactor, WorkerConfig config) {
    String interpreter = launch.interpreter;
    String where = " (" + launch.description + ")";
    String status = exit == null ? "" : " (" + ExitStatus.describe(exit) + ")";
    for (String line : stderr) {
      if (line.startsWith(WorkerLaunch.PREFLIGHT)) {
        String[] w = line.substring(WorkerLaunch.PREFLIGHT.length()).trim().split(" ", 2);
        String detail = w.length > 1 ? w[1] : "";
        switch (w[0]) {
          case "python-too-old":
            return new WorkerStartException(Reason.INTERPRETER_TOO_OLD,
                "Python interpreter " + interpreter + " is Python " + detail
                    + "; DSPex workers need Python " + WorkerLaunch.REQUIRED_PYTHON
                    + " or newer: point WorkerConfig.withPython(...) or " + WorkerConfig.PYTHON_ENV
                    + " at one", null);
          case "missing-packages":
            return new WorkerStartException(Reason.MISSING_PACKAGE,
                "Python interpreter " + interpreter + " lacks " + detail.replace(" ", ", ")
                    + ", which DSPex workers need: " + installHint(interpreter), null);
          case "no-module":
            return new WorkerStartException(Reason.MISSING_PACKAGE,
                "module " + detail + " cannot be found by Python interpreter " + interpreter
                    + " (PYTHONPATH: bundled worker code, then " + config.pythonPath()
                    + "): check WorkerConfig.withModule(...) and withPythonPath(...)", null);
          default:
            break;
        }
      }
    }
    if (timedOut) {
      return new WorkerStartException(Reason.TIMED_OUT,
          name + where + " did not answer hello within " + Durations.words(config.startTimeout())
              + " (WorkerConfig.withStartTimeout) and was killed" + status + stderrSuffix, null);
    }
    for (int i = stderr.size() - 1; i >= 0; i--) {
      Matcher m = NO_MODULE.matcher(stderr.get(i));
      if (stderr.get(i).contains("Error") && m.find()) {
        return new WorkerStartException(Reason.MISSING_PACKAGE,
            name + where + " exited at start" + status + " because Python cannot import "
                + m.group(1) + ": install it (for the worker's own packages: "
                + installHint(interpreter) + ")" + stderrSuffix, null);
      }
    }
    String cause = redactor.redact(error == null ? "" : error.getMessage());
    if (error instanceof ProtocolException) {
      return new WorkerStartException(Reason.PROTOCOL_ERROR,
          name + where + " wrote something else than protocol frames on its stdout before"
              + " answering hello (a banner or print() before the worker took over stdout?): "
              + cause + stderrSuffix, null);
    }
    if (exit == null) {
      return new WorkerStartException(Reason.EXITED,
          name + where + " broke its channel before answering hello: " + cause + stderrSuffix, null);
    }
    return new WorkerStartException(Reason.EXITED,
        name + where + " exited before answering hello" + status + stderrSuffix, null);
  }

  static String installHint(String interpreter) {
    String lock;
    try {
      lock = BundledPython.requirementsLock().toString();
    } catch (IOException e) {
      lock = "requirements.lock";
    }
    if (!Path.of(lock).toFile().exists()) {
      lock = "requirements.lock";
    }
    return interpreter + " -m pip install --require-hashes -r " + lock;
  }
}
