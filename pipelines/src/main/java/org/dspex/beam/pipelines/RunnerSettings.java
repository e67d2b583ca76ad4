package org.dspex.beam.pipelines;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.PipelineRunner;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.runners.PipelineRunnerRegistrar;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.pipelines.io.ReadRecords;

/**
 * Which Beam runner a job runs on, and with which options: the command's own {@code --runner},
 * {@code --flink-master} and {@code --parallelism}, plus any Beam option given after {@code --},
 * all parsed by Beam's {@link PipelineOptionsFactory#fromArgs} with validation. Any runner on the
 * classpath works without code here; the command only adds defaults for the two it ships:
 *
 * <ul>
 *   <li>DirectRunner: {@code targetParallelism} {@value #DIRECT_DEFAULT_PARALLELISM} (or {@code
 *       --parallelism}), {@code blockOnRun=false} (the command reads the running job's metrics),
 *       {@code enforceImmutability=false} and {@code enforceEncodability=false} (checks for tests);
 *       options after {@code --} override these;
 *   <li>FlinkRunner: {@code flinkMaster} from {@code --flink-master}, {@code parallelism} from
 *       {@code --parallelism} (else Flink's default).
 * </ul>
 *
 * <p>The DataflowRunner is not in the command's main jar (its module brings about 240 jars): the
 * {@code ./dspex} launcher runs the Dataflow build of the command ({@code dataflow/}) for it, and a
 * jar without it says so. Dataflow's workers are machines of their own ({@link
 * #workersSeeLocalFiles()} is false), and the command refuses {@code --templateLocation}: a template
 * would run the pipeline without the command, which assembles the output files after the job.
 *
 * <p>Immutable; made by {@link #of}, which reports bad usage as a {@link UsageError}.
 */
public final class RunnerSettings {
  /**
   * The DirectRunner's thread count unless {@code --parallelism} says otherwise. The runner's
   * monitor task resubmits itself without pause while a bundle is in progress (Beam 2.62,
   * apache/beam#18070), so a pool thread that is not inside a bundle spins a core the model
   * needs; the transforms keep every worker busy from one thread (workers + 1 batches in flight).
   * Measured on the 5,852-verse embed: the same records/s as the default 3 threads, 0.8 to 1.1 GB of
   * memory instead of 2.6 to 3.1 GB.
   */
  public static final int DIRECT_DEFAULT_PARALLELISM = 1;

  /** The default of {@code --runner}. */
  public static final String DEFAULT_RUNNER = "DirectRunner";

  /** The default of {@code --flink-master}: a Flink cluster inside this JVM. */
  public static final String LOCAL_FLINK = "[local]";

  /** Beam options the command sets from its own options, which therefore may not follow {@code --}. */
  private static final Map<String, String> OWNED = Map.of(
      "runner", "--runner", "flinkMaster", "--flink-master", "parallelism", "--parallelism",
      "targetParallelism", "--parallelism");

  /**
   * Runners whose workers are machines of their own that see none of this machine's files
   * (Dataflow's VMs), by class name: the command's main jar does not hold them.
   */
  private static final Set<String> REMOTE_RUNNERS = Set.of(
      "org.apache.beam.runners.dataflow.DataflowRunner", "org.apache.beam.runners.dataflow.TestDataflowRunner");

  /** How to get the DataflowRunner when this jar lacks it. */
  private static final String DATAFLOW_BUILD = "the DataflowRunner is in the Dataflow build of the command, not in this jar:"
      + " run ./dspex, which uses dataflow/target/dspex-dataflow.jar for --runner DataflowRunner (building it on"
      + " first use), or build that jar with: mvn -DskipTests -pl dataflow -am package";

  private final String runner;
  private final String flinkMaster;
  private final @Nullable Integer parallelism;
  private final List<String> beamArgs;
  private final Class<? extends PipelineRunner<?>> runnerClass;

  private RunnerSettings(String runner, String flinkMaster, @Nullable Integer parallelism, List<String> beamArgs,
      Class<? extends PipelineRunner<?>> runnerClass) {
    this.runner = runner;
    this.flinkMaster = flinkMaster;
    this.parallelism = parallelism;
    this.beamArgs = List.copyOf(beamArgs);
    this.runnerClass = runnerClass;
  }

  /**
   * The settings for {@code --runner runner --flink-master flinkMaster [--parallelism n] -- beamArgs},
   * checked: the runner is on the classpath and every option parses and validates.
   *
   * @param runner a runner's simple name as Beam takes it ({@code DirectRunner}, {@code direct},
   *     {@code FlinkRunner}, ...) or its class name
   * @param parallelism null for the runner's default
   * @param beamArgs Beam options, each {@code --name=value} (or {@code --flag})
   * @throws UsageError naming the option at fault
   */
  public static RunnerSettings of(String runner, String flinkMaster, @Nullable Integer parallelism,
      List<String> beamArgs) {
    for (String a : beamArgs) {
      String name = name(a);
      if (name == null) {
        throw new UsageError("runner options go after -- as --name=value; was '" + a + "'");
      }
      if (OWNED.containsKey(name)) {
        throw new UsageError("give " + OWNED.get(name) + " before --, not --" + name + " after it");
      }
    }
    Class<? extends PipelineRunner<?>> runnerClass;
    try {
      runnerClass = PipelineOptionsFactory.fromArgs("--runner=" + runner).create().getRunner();
    } catch (IllegalArgumentException e) {
      if (runner.toLowerCase(Locale.ROOT).contains("dataflow")) {
        throw new UsageError("--runner " + runner + ": " + DATAFLOW_BUILD, e);
      }
      throw new UsageError("--runner must be one of the runners on the classpath (" + String.join(", ", registered())
          + ") or a runner class, was '" + runner + "'", e);
    }
    if (parallelism != null && runnerClass != DirectRunner.class && runnerClass != FlinkRunner.class) {
      throw new UsageError("--parallelism applies to the DirectRunner and the FlinkRunner; give "
          + runnerClass.getSimpleName() + "'s own option after --");
    }
    RunnerSettings s = new RunnerSettings(runner, flinkMaster, parallelism, beamArgs, runnerClass);
    if (!s.workersSeeLocalFiles() && beamArgs.stream().anyMatch(a -> "templateLocation".equals(name(a)))) {
      throw new UsageError("--templateLocation would make " + runnerClass.getSimpleName() + " write a template"
          + " instead of running the job, and the command assembles the output files after the job it runs;"
          + " run the job without it");
    }
    s.pipelineOptions();
    return s;
  }

  /**
   * Records per block of an input file unless {@code --block-records} says otherwise: whole files
   * ({@link ReadRecords#WHOLE_FILES}) on the DirectRunner, {@link ReadRecords#DEFAULT_BLOCK_RECORDS}
   * elsewhere. The DirectRunner does not fuse steps: each step's bundles run on any of its threads,
   * so blocks add no parallelism there, and it would start every block at once (each a bundle of
   * up to 100 records until a checkpoint), holding that many records in memory. Runners that fuse
   * the reading with the model (Flink, Dataflow) run the model only as widely as the blocks spread.
   */
  public int defaultBlockRecords() {
    return runnerClass == DirectRunner.class ? ReadRecords.WHOLE_FILES : ReadRecords.DEFAULT_BLOCK_RECORDS;
  }

  /** The runner's class, as Beam resolved {@code --runner}. */
  public Class<? extends PipelineRunner<?>> runnerClass() {
    return runnerClass;
  }

  /**
   * Whether the job's workers run on this machine: on the DirectRunner and on Flink's {@value
   * #LOCAL_FLINK} cluster. For any other runner the command assumes they run elsewhere.
   */
  public boolean runsHere() {
    return runnerClass == DirectRunner.class || (runnerClass == FlinkRunner.class && LOCAL_FLINK.equals(flinkMaster));
  }

  /**
   * Whether the machines that run the workers can see this machine's files: false on Dataflow, whose
   * workers are VMs of their own, so a local input, output, program state or interpreter cannot reach
   * them. True for every other runner: a Flink session cluster or another runner may share this
   * machine's files, which the command cannot tell, so there the paths are the user's to get right.
   */
  public boolean workersSeeLocalFiles() {
    return !REMOTE_RUNNERS.contains(runnerClass.getName());
  }

  /** New pipeline options for these settings, validated. */
  public PipelineOptions pipelineOptions() {
    List<String> args = new ArrayList<>();
    args.add("--runner=" + runner);
    Set<String> given = new TreeSet<>();
    for (String a : beamArgs) {
      given.add(name(a));
    }
    if (runnerClass == DirectRunner.class) {
      args.add("--targetParallelism=" + (parallelism == null ? DIRECT_DEFAULT_PARALLELISM : parallelism));
      // The command reads the running job's metrics; immutability checks are for tests.
      for (String d : new String[] {"blockOnRun", "enforceImmutability", "enforceEncodability"}) {
        if (!given.contains(d)) {
          args.add("--" + d + "=false");
        }
      }
    } else if (runnerClass == FlinkRunner.class) {
      args.add("--flinkMaster=" + flinkMaster);
      if (parallelism != null) {
        args.add("--parallelism=" + parallelism);
      }
    }
    args.addAll(beamArgs);
    try {
      return PipelineOptionsFactory.fromArgs(args.toArray(String[]::new)).withValidation().create();
    } catch (IllegalArgumentException e) {
      throw new UsageError(culprit(args) + oneLine(e.getMessage()), e);
    }
  }

  /** Names the first of the user's options that does not parse alone, for the error line. */
  private String culprit(List<String> args) {
    for (String a : beamArgs) {
      try {
        PipelineOptionsFactory.fromArgs(args.get(0), a).create();
      } catch (IllegalArgumentException e) {
        return "runner option '" + a + "': ";
      }
    }
    return "runner options: ";
  }

  /** The option name of {@code --name=value} or {@code --flag}; null when {@code arg} is no option. */
  private static @Nullable String name(String arg) {
    if (!arg.startsWith("--") || arg.length() == 2) {
      return null;
    }
    int eq = arg.indexOf('=');
    return arg.substring(2, eq < 0 ? arg.length() : eq);
  }

  private static List<String> registered() {
    Set<String> names = new TreeSet<>();
    for (PipelineRunnerRegistrar r : ServiceLoader.load(PipelineRunnerRegistrar.class,
        RunnerSettings.class.getClassLoader())) {
      r.getPipelineRunners().forEach(c -> names.add(c.getSimpleName()));
    }
    return new ArrayList<>(names);
  }

  /** Beam's message on one line, without the position Jackson adds to a value it cannot read. */
  private static String oneLine(@Nullable String message) {
    return message == null ? ""
        : message.replaceAll("\\s*\\R\\s*", " ").replaceAll("\\s*at \\[Source: [^\\]]*\\]$", "");
  }
}
