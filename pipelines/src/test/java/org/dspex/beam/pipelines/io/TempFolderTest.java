package org.dspex.beam.pipelines.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Temporary folders: made with an owner file naming this process; those that dead processes left
 * for the same output are swept, those of live processes, of other outputs and without an owner
 * stay; locally and on an object store.
 */
class TempFolderTest {
  @TempDir Path dir;

  @BeforeAll
  static void registerFileSystems() {
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
  }

  @BeforeEach
  void emptyTheMemoryFileSystem() {
    MemoryFileSystem.clear();
  }

  /** The pid of a process that ran and is gone. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    return p.pid();
  }

  /** A temporary folder next to {@code output} with an owner file. */
  private static String leftBy(String output, long pid, String started) throws Exception {
    OutputTarget t = OutputTarget.of(output, 0);
    BeamFiles.makeFolder(t.temp());
    BeamFiles.writeString(t.owner(), Json.write(Map.of("output", t.output(), "host", TempFolder.host(), "pid", pid,
        "started", started)) + "\n");
    BeamFiles.writeString(t.outputShards() + "shard-x.jsonl", "{}\n");
    return t.temp();
  }

  @Test
  void givenFoldersOfDeadAndLiveRuns_thenOnlyTheDeadRunsFolderForThisOutputGoes() throws Exception {
    String out = dir.resolve("out.jsonl").toString();
    String dead = leftBy(out, deadPid(), "");
    String self = ProcessHandle.current().info().startInstant().map(Object::toString).orElse("");
    String live = leftBy(out, ProcessHandle.current().pid(), self);
    String reused = leftBy(out, ProcessHandle.current().pid(), "2001-01-01T00:00:00Z");
    String other = leftBy(dir.resolve("other.jsonl").toString(), deadPid(), "");
    Path unowned = Files.createDirectories(dir.resolve(OutputTarget.TEMP_PREFIX + "unowned"));

    OutputTarget target = OutputTarget.of(out, 0);
    TempFolder.create(target);
    Map<String, Object> owner = Json.parseObject(Files.readString(Path.of(target.owner())));
    assertEquals(out, owner.get("output"));
    assertEquals(ProcessHandle.current().pid(), ((Number) owner.get("pid")).longValue());
    List<String> swept = TempFolder.sweep(target);
    assertEquals(List.of(dead, reused).stream().sorted().toList(), swept.stream().sorted().toList());
    assertFalse(Files.exists(Path.of(dead)));
    assertFalse(Files.exists(Path.of(reused)), "a reused pid is another process");
    assertTrue(Files.exists(Path.of(live)));
    assertTrue(Files.exists(Path.of(other)));
    assertTrue(Files.exists(unowned));
    assertTrue(Files.exists(Path.of(target.temp())), "its own folder stays");
    TempFolder.delete(target);
    assertFalse(Files.exists(Path.of(target.temp())));
  }

  @Test
  void givenAnObjectStore_thenADeadRunsObjectsAreSwept() throws Exception {
    String out = "mem://bucket/run/out.jsonl";
    leftBy(out, deadPid(), "");
    BeamFiles.writeString("mem://bucket/run/kept.jsonl", "{}\n");
    OutputTarget target = OutputTarget.of(out, 0);
    TempFolder.create(target);
    assertEquals(1, TempFolder.sweep(target).size());
    TempFolder.delete(target);
    assertEquals(List.of("mem://bucket/run/kept.jsonl"), List.copyOf(MemoryFileSystem.objects().keySet()));
  }
}
