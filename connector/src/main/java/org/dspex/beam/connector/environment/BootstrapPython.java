package org.dspex.beam.connector.environment;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The interpreter that creates a venv: the setting, {@code $DSPEX_BOOTSTRAP_PYTHON}, or one found on the PATH. */
final class BootstrapPython {
  private static final List<String> CANDIDATES = List.of("python3.13", "python3.12", "python3.11", "python3");
  private static final String VERSION_CHECK =
      "import sys; print('%d.%d' % sys.version_info[:2]); sys.exit(0 if sys.version_info >= (3, 11) else 3)";

  private BootstrapPython() {}

  static String find(PythonEnvironment env, long deadline) throws EnvironmentSetupException {
    String explicit = env.bootstrapPython();
    String source = "PythonEnvironment.withBootstrapPython";
    if (explicit == null) {
      explicit = System.getenv(PythonEnvironment.BOOTSTRAP_PYTHON_ENV);
      source = "$" + PythonEnvironment.BOOTSTRAP_PYTHON_ENV;
    }
    if (explicit != null && !explicit.isBlank()) {
      Probe probe = probe(explicit, deadline);
      if (probe == null || !probe.recent()) {
        throw new EnvironmentSetupException(explicit + " (from " + source + ") is "
            + (probe == null ? "not a runnable Python" : "Python " + probe.version())
            + "; the workers' venv needs Python 3.11 or newer", null);
      }
      return explicit;
    }
    List<String> seen = new ArrayList<>();
    for (String name : CANDIDATES) {
      Path p = onPath(name);
      if (p == null) {
        continue;
      }
      Probe probe = probe(p.toString(), deadline);
      seen.add(p + " (" + (probe == null ? "not runnable" : probe.version()) + ")");
      if (probe != null && probe.recent()) {
        return p.toString();
      }
    }
    throw new EnvironmentSetupException("no Python 3.11 or newer to create the workers' venv with (found: "
        + (seen.isEmpty() ? "none of " + CANDIDATES + " on the PATH" : String.join(", ", seen))
        + "); set $" + PythonEnvironment.BOOTSTRAP_PYTHON_ENV + " or PythonEnvironment.withBootstrapPython, or run"
        + " the workers on an existing interpreter with WorkerConfig.withPython(...) or $DSPEX_PYTHON", null);
  }

  /** An interpreter's version, and whether it is 3.11 or newer. */
  private record Probe(String version, boolean recent) {}

  private static Probe probe(String python, long deadline) {
    try {
      Command.Outcome o = Command.run(List.of(python, "-c", VERSION_CHECK), null, deadline, line -> { });
      boolean answered = (o.exit() == 0 || o.exit() == 3) && !o.tail().isEmpty();
      return answered ? new Probe(o.tail().get(o.tail().size() - 1), o.exit() == 0) : null;
    } catch (EnvironmentSetupException e) {
      return null;
    }
  }

  private static Path onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }
}
