package org.dspex.beam.pipelines.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An output that would replace an input is refused whichever way the path is written: the same
 * file, through {@code ..}, a symbolic or a hard link, the output's failures file being the input,
 * the output being an input's failures file, an input inside a shards folder. A read-only output
 * is one no one may write, even the super-user.
 */
class OutputGuardTest {
  @TempDir Path dir;

  @BeforeAll
  static void registerFileSystems() {
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
  }

  private String conflict(String output, int shards, Path input) {
    return OutputGuard.conflict(OutputTarget.of(output, shards), List.of(input.toString()));
  }

  @Test
  void givenTheInputAsOutput_however_written_thenRefused() throws Exception {
    Path in = Files.writeString(dir.resolve("same.jsonl"), "{}\n");
    Files.createDirectories(dir.resolve("sub"));
    Path link = Files.createSymbolicLink(dir.resolve("link.jsonl"), in);
    Path hard = Files.createLink(dir.resolve("hard.jsonl"), in);
    Path linkedDir = Files.createSymbolicLink(dir.resolve("alias"), dir);
    for (String out : List.of(in.toString(), dir + "/sub/../same.jsonl", link.toString(), hard.toString(),
        linkedDir + "/same.jsonl")) {
      String c = conflict(out, 0, in);
      assertTrue(c != null && c.contains("is the input file '" + in + "'"), () -> out + ": " + c);
    }
    assertNull(conflict(dir.resolve("other.jsonl").toString(), 0, in));
  }

  @Test
  void givenTheFailuresFilesOfInputAndOutput_thenNeitherMayBeTheOther() throws Exception {
    Path failures = Files.writeString(dir.resolve("out.jsonl.failures.jsonl"), "{}\n");
    String c = conflict(dir.resolve("out.jsonl").toString(), 0, failures);
    assertEquals("the failures file of --output '" + dir.resolve("out.jsonl") + "' would be the input '" + failures
        + "', which it replaces; write the output elsewhere", c);
    Path in = Files.writeString(dir.resolve("in.jsonl"), "{}\n");
    String d = conflict(dir.resolve("in.jsonl.failures.jsonl").toString(), 0, in);
    assertTrue(d.contains("is the failures file of the input '" + in + "'"), d);
  }

  @Test
  void givenAnInputInsideTheShardsFolder_thenRefused() throws Exception {
    Files.createDirectories(dir.resolve("out"));
    Path in = Files.writeString(dir.resolve("out/part-00000-of-00002.jsonl"), "{}\n");
    String c = conflict(dir.resolve("out").toString(), 2, in);
    assertTrue(c.contains("(the folder of --shards) holds the input file"), c);
    assertNull(conflict(dir.resolve("out2").toString(), 2, in));
  }

  @Test
  void givenAFileWithoutWriteBits_thenReadOnly() throws Exception {
    Path f = Files.writeString(dir.resolve("out.jsonl"), "precious");
    assertFalse(OutputGuard.readOnly(f.toString()));
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--r--r--"));
    assertTrue(OutputGuard.readOnly(f.toString()));
    assertFalse(OutputGuard.readOnly(dir.resolve("missing.jsonl").toString()));
    assertFalse(OutputGuard.readOnly("mem://bucket/out.jsonl"));
  }
}
