package org.dspex.beam.pipelines.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where outputs go, through Beam's file systems: local paths exactly as before (resolved against
 * the working directory, the failures file and the temporary folder beside the output), {@code
 * gs://} paths named without a network, an object-store-like file system ({@link MemoryFileSystem})
 * checked and cleaned, and one clear line for a scheme no file system handles.
 */
class OutputTargetTest {
  @TempDir Path dir;

  @BeforeAll
  static void registerFileSystems() {
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
  }

  @BeforeEach
  void emptyTheMemoryFileSystem() {
    MemoryFileSystem.clear();
  }

  @Test
  void givenARelativeLocalPath_thenItIsResolvedAgainstTheWorkingDirectoryAndNormalised() {
    OutputTarget t = OutputTarget.of("sub/../out.jsonl", 0);
    Path out = Path.of("out.jsonl").toAbsolutePath();
    assertEquals(out.toString(), t.output());
    assertEquals(out + ".failures.jsonl", t.failures());
    assertEquals(OutputTarget.Format.JSONL, t.format());
    assertTrue(t.temp().matches(java.util.regex.Pattern.quote(out.getParent() + "/.dspex-tmp-") + "[-0-9a-f]{36}/"),
        t.temp());
  }

  @Test
  void givenAGcsPath_thenTheFailuresFileAndTheTemporaryFolderAreItsSiblings() {
    OutputTarget t = OutputTarget.of("gs://my-bucket/runs/answers.parquet", 2);
    assertEquals("gs://my-bucket/runs/answers.parquet", t.output());
    assertEquals("gs://my-bucket/runs/answers.parquet.failures.jsonl", t.failures());
    assertEquals(OutputTarget.Format.PARQUET, t.format());
    assertTrue(t.temp().startsWith("gs://my-bucket/runs/.dspex-tmp-") && t.temp().endsWith("/"), t.temp());
  }

  @Test
  void givenASchemeNoFileSystemHandles_thenOneLineNamingIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> OutputTarget.of("s3://bucket/out.jsonl", 0));
    assertEquals("'s3://bucket/out.jsonl': No filesystem found for scheme s3 (no Beam file system for it is on"
        + " the classpath)", e.getMessage());
  }

  @Test
  void givenAnExistingLocalShardsFolder_thenItExistsAndIsDeletedWithAllItHolds() throws Exception {
    Path out = dir.resolve("out.jsonl");
    Files.createDirectories(out.resolve(".temp-beam-1"));
    Files.writeString(out.resolve("part-00000-of-00001.jsonl"), "{}\n");
    OutputTarget t = OutputTarget.of(out.toString(), 1);
    assertEquals(out.toString(), t.existing());
    Files.writeString(Path.of(t.failures()), "");
    t.deleteExisting();
    assertNull(t.existing());
    assertFalse(Files.exists(out));
    assertFalse(Files.exists(Path.of(t.failures())));
  }

  @Test
  void givenAnObjectStore_thenExistenceIsAnyObjectUnderTheNameAndOverwriteDeletesThemAll() throws Exception {
    OutputTarget t = OutputTarget.of("mem://bucket/out.jsonl", 2);
    assertNull(t.existing());
    BeamFiles.writeString("mem://bucket/out.jsonl/part-00000-of-00002.jsonl", "{}\n");
    BeamFiles.writeString("mem://bucket/out.jsonl.failures.jsonl", "");
    BeamFiles.writeString("mem://bucket/other.jsonl", "kept");
    assertEquals("mem://bucket/out.jsonl", t.existing());
    BeamFiles.makeFolder(t.output());
    t.deleteExisting();
    assertNull(t.existing());
    assertEquals(List.of("mem://bucket/other.jsonl"), List.copyOf(MemoryFileSystem.objects().keySet()));
  }

  @Test
  void givenAFileOnAnObjectStore_thenItIsReadAndWrittenAsUtf8() throws Exception {
    BeamFiles.writeString("mem://bucket/a.txt", "grüße\n");
    assertEquals("grüße\n", new String(MemoryFileSystem.objects().get("mem://bucket/a.txt"), StandardCharsets.UTF_8));
    try (var r = BeamFiles.reader("mem://bucket/a.txt")) {
      assertEquals("grüße", r.readLine());
    }
  }
}
