package org.dspex.beam.pipelines.cli;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.pipelines.JobSettings;
import org.dspex.beam.pipelines.io.BeamFiles;

/**
 * The LM cache every worker of one job shares when {@code --cache-dir} names none: DSPy's disk
 * cache in {@code <output>}{@value #SUFFIX}, next to the output. One cache per job, not one per
 * worker, so that a worker started again after a crash or a stall finds the answers its
 * predecessor paid for. Removed when the job ran to its end; kept when it failed or was killed, so
 * that {@code --resume} answers every record that run answered without an LM call; without {@code
 * --resume} the next run of the same output starts over and removes it.
 *
 * <p>None ({@link #dir()} null) when the workers run elsewhere (a cluster's machines do not share
 * this machine's folders: see the README) or the output is not a local file.
 */
final class JobLmCache {
  /** Appended to the output's path. */
  static final String SUFFIX = ".lm-cache";

  private final @Nullable File dir;
  private final boolean resume;

  private JobLmCache(@Nullable File dir, boolean resume) {
    this.dir = dir;
    this.resume = resume;
  }

  /** No job cache: {@code --cache-dir} names one, or the job has no LM. */
  static JobLmCache none() {
    return new JobLmCache(null, false);
  }

  /** The job cache of {@code settings}' output, or none where the workers could not share it. */
  static JobLmCache of(JobSettings settings, boolean resume) {
    String output = settings.output();
    if (!settings.runsHere() || !BeamFiles.isLocal(output)) {
      return new JobLmCache(null, resume);
    }
    return new JobLmCache(new File(BeamFiles.absolute(output) + SUFFIX), resume);
  }

  /** The folder the workers' DSPy cache lives in, or null for none. */
  @Nullable String dir() {
    return dir == null ? null : dir.getPath();
  }

  /**
   * Before the job, once the output is known to be writable: keeps what a run that did not finish
   * left for {@code --resume}, else removes it, saying so on {@code err} either way.
   */
  void prepare(PrintStream err) throws IOException {
    if (dir == null) {
      if (resume) {
        err.println("dspex: --resume: this job keeps no LM cache of its own here (--cache-dir, or workers"
            + " on other machines); running every record");
      }
      return;
    }
    boolean left = dir.isDirectory();
    if (resume) {
      err.println(left
          ? "dspex: resuming: records the earlier run answered come from its LM cache " + dir
          : "dspex: --resume: no earlier run of this output left an LM cache (" + dir + "); running every record");
    } else if (left) {
      err.println("dspex: an earlier run of this output did not finish; starting over without its LM cache"
          + " (--resume reuses it)");
      BeamFiles.delete(dir.getPath());
    }
    if (!dir.isDirectory() && !dir.mkdirs()) {
      throw new IOException("cannot make the job's LM cache folder " + dir);
    }
  }

  /** The job ran to its end: its cache goes. */
  void finished() throws IOException {
    if (dir != null) {
      BeamFiles.delete(dir.getPath());
    }
  }

  /** The job did not finish: says where its cache stays and how to use it. */
  void kept(PrintStream err) {
    if (dir != null && dir.isDirectory()) {
      err.println("dspex: the answers paid for so far are kept in " + dir + ": run the same command with"
          + " --resume to continue without paying for them again");
    }
  }
}
