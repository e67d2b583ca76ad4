package org.dspex.beam.pipelines.cli;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.pipelines.RemoteWorkers;
import org.dspex.beam.pipelines.RunnerSettings;
import org.dspex.beam.pipelines.UsageError;
import org.dspex.beam.transforms.DSPexProgramTransform;
import picocli.CommandLine.Option;

/**
 * How {@code predict}, {@code trainset} and {@code optimize} reach their LM and program (a picocli mixin): {@code
 * --lm}, {@code --api-base}, {@code --api-key-env}, {@code --threads}, {@code --program-state},
 * {@code --python-path}.
 */
public final class LmOptions {
  @Option(names = "--lm", required = true, paramLabel = "PROVIDER/MODEL",
      description = "The LM as dspy.LM names it, e.g. openai/gpt-4o-mini; or local/gemma3-270m, run"
          + " by the workers themselves (the local-lm extra, see README).")
  String lm;

  @Option(names = "--api-base", paramLabel = "URL",
      description = "Base URL of an OpenAI-compatible server (default: the provider's).")
  String apiBase;

  @Option(names = "--api-key-env", paramLabel = "VAR",
      description = "NAME of the environment variable holding the API key (default: the provider's"
          + " usual one). The value never leaves the worker processes.")
  String apiKeyEnv;

  @Option(names = "--threads", paramLabel = "N",
      description = "LM calls in flight per worker (default: 8).")
  Integer threads;

  @Option(names = "--cache-dir", paramLabel = "DIR",
      description = "DSPy's LM cache on disk, kept across runs: a record already answered there costs"
          + " no LM call when it runs again (default: one for the job, shared by its workers, in"
          + " OUTPUT.lm-cache, removed when the job ends and kept for --resume when it fails).")
  String cacheDir;

  @Option(names = "--program-state", paramLabel = "FILE",
      description = "A saved program state (program.save(path) JSON) loaded into the program.")
  String programState;

  @Option(names = "--python-path", paramLabel = "DIR", split = ",",
      description = "Directories where the program's modules live (PYTHONPATH).")
  List<String> pythonPath = new ArrayList<>();

  /**
   * The absolute path of {@code --program-state}, or null; {@link UsageError} when it is no file,
   * or when the runner's workers cannot see this machine's files.
   */
  String programState(RunnerSettings runner) {
    if (programState == null) {
      return null;
    }
    RemoteWorkers.refuseLocal(runner, "--program-state", "a file", "build it into the worker image"
        + " (dataflow/container) and load it in the program's factory");
    if (!new File(programState).isFile()) {
      throw new UsageError("--program-state '" + programState + "' is not a file");
    }
    return new File(programState).getAbsolutePath();
  }

  /**
   * Checks that the key variable {@code variable} (given by {@code option}, may be null) is set when
   * the workers run here: every call would fail on the missing key otherwise.
   */
  static void requireKey(String variable, String option, boolean workersRunHere) {
    if (variable != null && workersRunHere) {
      String value = System.getenv(variable);
      if (value == null || value.isEmpty()) {
        throw new UsageError(option + " " + variable + ": that environment variable is not set"
            + " (the workers read the API key from it)");
      }
    }
  }

  /**
   * The absolute path of {@code --cache-dir} when the workers run here (made when missing, so a
   * typo fails now rather than in every worker); as given for a remote cluster, whose machines
   * hold it.
   */
  private String cacheDir(boolean workersRunHere) {
    if (!workersRunHere) {
      return cacheDir;
    }
    File dir = new File(cacheDir).getAbsoluteFile();
    if (!dir.isDirectory() && !dir.mkdirs()) {
      throw new UsageError("--cache-dir '" + cacheDir + "' is not a directory and cannot be made");
    }
    return dir.getPath();
  }

  /**
   * {@code p} with the LM and the Python path (not the state); {@link UsageError} for a bad one, or
   * for an unset {@code --api-key-env} variable when the workers run here (every record would fail
   * on the missing key otherwise). Where the runner's workers cannot see this machine's folders
   * (Dataflow) the Python path is left to {@link #withLocalPythonPath}: those workers import the
   * program from their image.
   */
  <T extends DSPexProgramTransform<T>> T apply(T p, RunnerSettings runner) {
    return apply(p, runner, null);
  }

  /**
   * {@link #apply(DSPexProgramTransform, RunnerSettings)}, with {@code jobCacheDir} (may be null) as
   * the LM cache when {@code --cache-dir} names none.
   */
  <T extends DSPexProgramTransform<T>> T apply(T p, RunnerSettings runner, @Nullable String jobCacheDir) {
    boolean workersRunHere = runner.runsHere();
    requireKey(apiKeyEnv, "--api-key-env", workersRunHere);
    try {
      T c = p.withModel(lm);
      if (apiBase != null) {
        c = c.withApiBase(apiBase);
      }
      if (apiKeyEnv != null) {
        c = c.withApiKeyEnv(apiKeyEnv);
      }
      if (threads != null) {
        c = c.withThreads(threads);
      }
      if (cacheDir != null) {
        c = c.withCacheDir(cacheDir(workersRunHere));
      } else if (jobCacheDir != null) {
        c = c.withCacheDir(jobCacheDir);
      }
      return runner.workersSeeLocalFiles() ? withLocalPythonPath(c) : c;
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage(), e);
    }
  }

  /**
   * {@code p} with the {@code --python-path} folders of this machine (as given by {@link #apply}, and
   * for the worker the command starts itself to learn a program's fields); {@link UsageError} for
   * one that is no folder.
   */
  <T extends DSPexProgramTransform<T>> T withLocalPythonPath(T p) {
    List<String> dirs = new ArrayList<>();
    for (String d : pythonPath) {
      if (!new File(d).isDirectory()) {
        throw new UsageError("--python-path '" + d + "' is not a directory");
      }
      dirs.add(new File(d).getAbsolutePath());
    }
    return dirs.isEmpty() ? p : p.withPythonPath(dirs.toArray(String[]::new));
  }
}
