package org.dspex.beam.pipelines;

import org.dspex.beam.pipelines.io.BeamFiles;

/**
 * What the command refuses when the runner's workers cannot see this machine's files ({@link
 * RunnerSettings#workersSeeLocalFiles()} false: Dataflow): a local input or output, a program state
 * file. Each refusal is one line that names the option and what to give instead, before anything is
 * read: otherwise every worker of the job would fail on a missing file, or write where nobody reads.
 */
public final class RemoteWorkers {
  private RemoteWorkers() {}

  /**
   * Refuses {@code spec}, given by {@code option}, when it is a local path the workers would read
   * (Beam's file systems must be set up for the job's options, to tell a local path from a URI).
   *
   * @throws UsageError naming the option
   */
  public static void requireReadable(RunnerSettings runner, String option, String spec) {
    if (!runner.workersSeeLocalFiles() && BeamFiles.isLocal(spec)) {
      throw new UsageError(option + " '" + spec + "' is a path on this machine, which the workers of "
          + runner.runnerClass().getSimpleName() + " (machines of their own) cannot read; copy it to a bucket and"
          + " give its gs:// URI");
    }
  }

  /**
   * Refuses {@code spec}, given by {@code option}, when it is a local path the workers would write.
   *
   * @throws UsageError naming the option
   */
  public static void requireWritable(RunnerSettings runner, String option, String spec) {
    if (!runner.workersSeeLocalFiles() && BeamFiles.isLocal(spec)) {
      throw new UsageError(option + " '" + spec + "' is a path on this machine, where the workers of "
          + runner.runnerClass().getSimpleName() + " (machines of their own) cannot write; give a gs:// URI");
    }
  }

  /**
   * Refuses {@code option}, which names {@code what} of this machine, when the workers cannot see it.
   *
   * @param instead what to do instead, for the message
   * @throws UsageError naming the option
   */
  public static void refuseLocal(RunnerSettings runner, String option, String what, String instead) {
    if (!runner.workersSeeLocalFiles()) {
      throw new UsageError(option + " names " + what + " on this machine, which the workers of "
          + runner.runnerClass().getSimpleName() + " (machines of their own) cannot see; " + instead);
    }
  }
}
