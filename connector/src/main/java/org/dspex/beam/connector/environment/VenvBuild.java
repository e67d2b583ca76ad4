package org.dspex.beam.connector.environment;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps that make a venv from a lock file, in a folder the caller holds the lock for: {@code
 * python -m venv}, {@code pip install --require-hashes}, {@code pip check} (its documented exceptions
 * allowed), the {@code .pth} check, then the completion marker, written last.
 */
final class VenvBuild {
  private static final Logger LOG = LoggerFactory.getLogger(PythonEnvironment.class);
  /** Written last, holding the lock's hash: a venv without it is half-built. */
  static final String MARKER = ".dspex-complete";
  /** The lock the venv was built from, kept in the venv for pip and for whoever looks. */
  static final String LOCK_COPY = "dspex-requirements.lock";
  /** What pip prints when it cannot reach the index or find a wheel there. */
  private static final List<String> UNREACHABLE = List.of("could not find a version that satisfies",
      "no matching distribution found", "failed to establish a new connection", "network is unreachable",
      "temporary failure in name resolution", "name or service not known", "proxyerror", "sslerror",
      "connection refused", "read timed out");

  private final PythonEnvironment env;
  private final BundledLock lock;
  private final Path venv;
  private final long deadline;

  VenvBuild(PythonEnvironment env, BundledLock lock, Path venv, long deadlineNanos) {
    this.env = env;
    this.lock = lock;
    this.venv = venv;
    this.deadline = deadlineNanos;
  }

  /** Builds the venv into its (empty or absent) folder. */
  void run() throws EnvironmentSetupException {
    String bootstrap = BootstrapPython.find(env, deadline);
    long start = System.nanoTime();
    LOG.info("dspex: building the workers' Python venv {} from {} ({} packages) with {}: first use of this lock"
        + " on this machine, later uses start at once", venv, lock.name(), lock.packages(), bootstrap);
    Command.Outcome created = Command.run(List.of(bootstrap, "-m", "venv", venv.toString()), null, deadline,
        line -> LOG.info("dspex venv: {}", line));
    if (!created.ok()) {
      throw failed("'" + bootstrap + " -m venv' exited with " + created.exit(), created, false);
    }
    Path lockCopy = venv.resolve(LOCK_COPY);
    try {
      Files.write(lockCopy, lock.content());
    } catch (IOException e) {
      throw new EnvironmentSetupException("cannot write " + lockCopy + ": " + e.getMessage(), e);
    }
    List<String> install = new ArrayList<>(List.of(python().toString(), "-m", "pip", "install", "--no-input",
        "--progress-bar", "off", "--require-hashes", "--no-deps", "--only-binary=:all:", "-r", lockCopy.toString()));
    if (env.wheelDir() != null) {
      install.addAll(List.of("--no-index", "--find-links", env.wheelDir()));
    }
    install.addAll(env.pipArgs());
    Command.Outcome installed = Command.run(install, venv, deadline, line -> LOG.info("dspex venv: {}", line));
    if (!installed.ok()) {
      throw failed("pip install from " + lock.name() + " exited with " + installed.exit(), installed, true);
    }
    checkPip();
    checkPth();
    try {
      Files.writeString(venv.resolve(MARKER), lock.sha256() + "\n");
    } catch (IOException e) {
      throw new EnvironmentSetupException("cannot write " + venv.resolve(MARKER) + ": " + e.getMessage(), e);
    }
    LOG.info("dspex: the workers' Python venv {} is ready ({} s)", venv, (System.nanoTime() - start) / 1_000_000_000L);
  }

  Path python() {
    return venv.resolve("bin").resolve("python");
  }

  private void checkPip() throws EnvironmentSetupException {
    Command.Outcome check = Command.run(List.of(python().toString(), "-m", "pip", "check"), venv, deadline,
        line -> { });
    List<String> problems = new ArrayList<>();
    for (String line : check.tail()) {
      if (!line.isBlank() && !line.equals("No broken requirements found.") && !lock.pipCheckAllowed().contains(line)) {
        problems.add(line);
      }
    }
    if (!problems.isEmpty()) {
      throw new EnvironmentSetupException("the venv " + venv + " built from " + lock.name()
          + " has broken requirements (pip check):\n" + String.join("\n", problems), null);
    }
  }

  /** A {@code .pth} file runs code at every interpreter start: only the ones the lock lists may be there. */
  private void checkPth() throws EnvironmentSetupException {
    TreeSet<String> unexpected = new TreeSet<>();
    try (DirectoryStream<Path> libs = Files.newDirectoryStream(venv.resolve("lib"), "python*")) {
      for (Path lib : libs) {
        Path site = lib.resolve("site-packages");
        if (!Files.isDirectory(site)) {
          continue;
        }
        try (DirectoryStream<Path> pths = Files.newDirectoryStream(site, "*.pth")) {
          for (Path pth : pths) {
            if (!lock.expectedPth().contains(pth.getFileName().toString())) {
              unexpected.add(pth.toString());
            }
          }
        }
      }
    } catch (IOException e) {
      throw new EnvironmentSetupException("cannot list the .pth files of " + venv + ": " + e.getMessage(), e);
    }
    if (!unexpected.isEmpty()) {
      throw new EnvironmentSetupException("the venv " + venv + " built from " + lock.name() + " holds .pth files its"
          + " lock does not list on its '# expected-pth:' line: " + String.join(", ", unexpected) + " (a .pth file runs"
          + " code at every interpreter start; the venv is not used)", null);
    }
  }

  private EnvironmentSetupException failed(String what, Command.Outcome outcome, boolean pip) {
    String hint = "";
    String text = outcome.tailText().toLowerCase(Locale.ROOT);
    if (pip && UNREACHABLE.stream().anyMatch(text::contains)) {
      hint = "\nThe package index cannot be reached from this machine (or lacks a pinned wheel). Set"
          + " PythonEnvironment.withWheelDir(<folder of wheels>) (fill it on a machine with access: pip download"
          + " --require-hashes --no-deps --only-binary=:all: -r " + lock.name() + " -d <folder>), or"
          + " withPipArgs(\"--index-url\", \"<mirror>\"), or run the workers on an existing interpreter with"
          + " WorkerConfig.withPython(...) or $DSPEX_PYTHON.";
    }
    return new EnvironmentSetupException("cannot build the workers' Python venv " + venv + ": " + what
        + "; its last lines:\n" + outcome.tailText() + hint, null);
  }
}
