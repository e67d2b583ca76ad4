package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code ./dspex} with {@code --runner DataflowRunner}, as a user runs it: the launcher
 * picks the Dataflow build of the command (dataflow/target/dspex-dataflow.jar, whose manifest puts
 * target/lib on its class path), which resolves the runner and answers in one line; and Beam, run
 * from that jar, stages every jar of its class path to the job's workers. (In this package to use
 * the pipelines module's launcher helper, {@link Dspex}, from its test jar.)
 */
class DataflowCommandIT {
  @TempDir Path dir;

  @Test
  void givenTheDataflowRunnerAndALocalInput_thenTheDataflowBuildRunsAndRefusesItInOneLine() throws Exception {
    Path input = Files.writeString(dir.resolve("in.jsonl"), "{\"id\": 1, \"text\": \"a\"}\n");
    Dspex.Run r = Dspex.run(dir, "embed", "--input", "in.jsonl", "--output", "gs://bucket/out.parquet",
        "--runner", "DataflowRunner", "--", "--project=offline-test", "--region=us-central1",
        "--tempLocation=gs://bucket/tmp").expectExit(2).expectNoStackTrace();
    assertEquals(List.of("dspex: error: --input 'in.jsonl' is a path on this machine, which the workers of"
        + " DataflowRunner (machines of their own) cannot read; copy it to a bucket and give its gs:// URI"),
        r.stderrLines(), r::toString);
    assertTrue(Files.exists(input));
  }

  @Test
  void givenAJobRunFromTheDataflowJar_thenBeamStagesEveryJarOfItsClassPath() throws Exception {
    Path jar = Path.of(System.getProperty("dspex.jar"));
    Path lib = jar.resolveSibling("lib");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", jar + java.io.File.pathSeparator + System.getProperty("dspex.test.classes"),
        StagedFiles.class.getName()));
    Dspex.Run r = Dspex.exec(cmd, dir, Map.of(), Duration.ofMinutes(2)).expectExit(0);
    Set<String> staged = r.stdout().lines().map(l -> Path.of(l).getFileName().toString())
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> libJars;
    try (Stream<Path> s = Files.list(lib)) {
      libJars = s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
    assertTrue(libJars.size() > 200, libJars::toString);
    assertTrue(staged.contains(jar.getFileName().toString()), staged::toString);
    Set<String> missing = new TreeSet<>(libJars);
    missing.removeAll(staged);
    assertEquals(Set.of(), missing, "jars of the class path Beam would not stage");
  }
}
