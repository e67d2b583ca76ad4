package org.dspex.beam.pipelines.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.io.FileSystems;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.pipelines.Job;
import org.dspex.beam.pipelines.JobRunner;
import org.dspex.beam.pipelines.JobSettings;
import org.dspex.beam.pipelines.PreparedJob;
import org.dspex.beam.pipelines.RemoteWorkers;
import org.dspex.beam.pipelines.UsageError;
import org.dspex.beam.pipelines.io.InputProbe;
import org.dspex.beam.pipelines.io.OutputTarget;
import org.dspex.beam.pipelines.io.RecordLayout;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What the subcommands share: check the common options, probe the input, let the subcommand
 * describe its {@link Job}, prepare the output, run, and return the exit code.
 */
abstract class JobCommand implements Callable<Integer> {
  /** The id field used when {@code --id-field} is not given and the input has it. */
  static final String DEFAULT_ID_FIELD = "id";

  @Mixin CommonOptions common;

  @Option(names = "--id-field", paramLabel = "FIELD",
      description = "Field identifying a record, written first (default: 'id' when the input has it; for trainset, none).")
  String idField;

  @Option(names = "--keep-fields", paramLabel = "A,B", split = ",",
      description = "Input fields copied to the output after the id.")
  List<String> keepFields = new ArrayList<>();

  @Option(names = "--resume",
      description = "Continue a run of the same output that failed or was killed: the records it answered"
          + " come from its LM cache without paying again (--batch-api's recorded batches are picked up"
          + " by any re-run).")
  boolean resume;

  /**
   * The LM cache the job's workers share ({@link JobLmCache}); set before {@link #job}, for the
   * subcommands whose model is an LM.
   */
  JobLmCache lmCache = JobLmCache.none();

  /** The settings the job runs with: the common options' (a subcommand may change their defaults). */
  JobSettings adjust(JobSettings settings) {
    return settings;
  }

  /** Describes the job for the probed input; {@link UsageError} for what the user must fix. */
  abstract Job job(JobSettings settings, InputProbe input);

  /** The LM options of a subcommand that calls an LM, else null. */
  @Nullable LmOptions lmOptions() {
    return null;
  }

  /**
   * Runs after a job that ran to its end, before its files replace the output's (e.g. trainset
   * writes its input keys next to {@code staged}'s output).
   */
  void after(OutputTarget staged, Job job) throws Exception {}

  @Override
  public Integer call() throws Exception {
    PreparedJob prepared = prepare();
    lmCache.prepare(System.err);
    JobRunner.Outcome outcome;
    try {
      outcome = prepared.run(staged -> after(staged, prepared.job()));
    } catch (Exception | Error e) {
      lmCache.kept(System.err);
      throw e;
    }
    lmCache.finished();
    return ExitCodes.of(outcome);
  }

  /**
   * Everything before the run: the options checked, the input probed, the job described, the output
   * prepared.
   *
   * @throws UsageError for what the user must fix
   */
  PreparedJob prepare() {
    JobSettings settings = adjust(common.settings());
    // Beam's file systems for the runner's options (gs:// and others on the classpath), before the
    // command reads the input or checks the output.
    FileSystems.setDefaultPipelineOptions(settings.pipelineOptions());
    RemoteWorkers.requireReadable(settings.runner(), "--input", settings.input());
    RemoteWorkers.requireWritable(settings.runner(), "--output", settings.output());
    InputProbe input;
    try {
      input = InputProbe.of(settings.input(), settings.inputFormat(), settings.maxLineBytes());
    } catch (InputProbe.InputException e) {
      throw new UsageError(e.getMessage(), e);
    }
    LmOptions lm = lmOptions();
    lmCache = lm != null && lm.cacheDir == null ? JobLmCache.of(settings, resume) : JobLmCache.none();
    Job job = job(settings, input);
    JobRunner runner = new JobRunner(settings, System.err, System.console() != null);
    return new PreparedJob(runner, job, runner.prepareOutput());
  }

  /**
   * The id field: the given one (which must exist), else {@value #DEFAULT_ID_FIELD} if present and
   * {@link #defaultId()}.
   */
  @Nullable String idField(InputProbe input) {
    if (idField != null) {
      require(input, List.of(idField), "--id-field");
      return idField;
    }
    return defaultId() && input.fieldNames().contains(DEFAULT_ID_FIELD) ? DEFAULT_ID_FIELD : null;
  }

  /** Whether an input field {@value #DEFAULT_ID_FIELD} is written without {@code --id-field}. */
  boolean defaultId() {
    return true;
  }

  /** The id and kept fields as optional columns of their inferred types, appended to {@code columns}. */
  List<String> passThrough(InputProbe input, List<RecordLayout.Column> columns, List<String> exclude) {
    require(input, keepFields, "--keep-fields");
    List<String> names = new ArrayList<>();
    String id = idField(input);
    if (id != null) {
      names.add(id);
    }
    for (String k : keepFields) {
      if (!names.contains(k)) {
        names.add(k);
      }
    }
    for (String n : names) {
      if (!exclude.contains(n)) {
        columns.add(new RecordLayout.Column(n, input.infer(n), false));
      }
    }
    return names;
  }

  /** Checks that the input has {@code fields} (given by {@code option}). */
  static void require(InputProbe input, List<String> fields, String option) {
    try {
      input.requireFields(fields, option);
    } catch (InputProbe.InputException e) {
      throw new UsageError(e.getMessage(), e);
    }
  }
}
