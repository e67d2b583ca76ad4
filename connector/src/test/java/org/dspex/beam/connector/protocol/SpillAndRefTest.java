package org.dspex.beam.connector.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.dspex.beam.connector.codec.ContentFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpillAndRefTest {
  @TempDir Path temp;
  private SpillDirectory spill;
  private RefResolver resolver;

  @BeforeEach
  void createSpill() throws IOException {
    spill = SpillDirectory.create(temp);
    resolver = spill.resolver(1000);
  }

  @AfterEach
  void closeSpill() throws IOException {
    spill.close();
  }

  private RefPointer ref(String path, long offset, long length) {
    return new RefPointer(path, offset, length, ContentFormat.MSGPACK);
  }

  @Test
  void givenDefaultCreate_thenPrivateDirectoryUnderDevShmOrTmp() throws IOException {
    try (SpillDirectory d = SpillDirectory.create()) {
      Path parent = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
      assertEquals(parent.toRealPath(), d.path().getParent().toRealPath());
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.path())));
      assertTrue(d.path().getFileName().toString().startsWith("dspex-"));
    }
  }

  @Test
  void givenWrite_thenFileNamedByPidAndSeqWithTheBytes() throws IOException {
    RefPointer r = spill.write(ContentFormat.ARROW, ByteBuffer.wrap(new byte[] {1, 2, 3}));
    assertEquals("j" + ProcessHandle.current().pid() + "-1.arrow", r.path());
    assertEquals(new RefPointer(r.path(), 0, 3, ContentFormat.ARROW), r);
    ByteBuffer mapped = resolver.map(r);
    assertTrue(mapped.isDirect(), "mapped, not copied");
    assertEquals(3, mapped.remaining());
    assertEquals(3, mapped.get(2));
    assertTrue(spill.write(ContentFormat.NUMPY, ByteBuffer.allocate(0)).path().endsWith("-2.numpy"));
  }

  @Test
  void givenMappingThenDelete_thenMappingStillReadable() throws IOException {
    RefPointer r = spill.write(ContentFormat.MSGPACK, ByteBuffer.wrap(new byte[] {7, 8, 9, 10}));
    ByteBuffer mapped = resolver.map(ref(r.path(), 1, 2));
    assertTrue(spill.delete(r.path()));
    assertFalse(Files.exists(spill.path().resolve(r.path())));
    assertEquals(8, mapped.get(0));
    assertEquals(9, mapped.get(1));
  }

  @Test
  void givenSweepAndClose_thenFilesAndDirectoryGone() throws IOException {
    Files.write(spill.path().resolve("w42-1.msgpack"), new byte[1]);
    Files.write(spill.path().resolve("w42-2.arrow"), new byte[1]);
    Files.write(spill.path().resolve("w43-1.arrow"), new byte[1]);
    assertEquals(2, spill.sweep("w42-"));
    assertTrue(Files.exists(spill.path().resolve("w43-1.arrow")));
    spill.close();
    assertFalse(Files.exists(spill.path()));
  }

  @Test
  void givenExistingDirectory_thenCloseLeavesIt() throws IOException {
    Path dir = Files.createDirectory(temp.resolve("kept"));
    SpillDirectory.existing(dir).close();
    assertTrue(Files.isDirectory(dir));
  }

  @Test
  void givenAbsoluteOrParentPath_thenRefOutsideSpillDir() {
    assertThrows(RefOutsideSpillDirException.class, () -> resolver.validate(ref("/etc/passwd", 0, 1)));
    assertThrows(RefOutsideSpillDirException.class, () -> resolver.validate(ref("../x", 0, 1)));
    assertThrows(RefOutsideSpillDirException.class, () -> resolver.validate(ref("a/../../x", 0, 1)));
    assertThrows(RefOutsideSpillDirException.class, () -> resolver.validate(ref("", 0, 1)));
  }

  @Test
  void givenSymlinkLeadingOutside_thenRefOutsideSpillDir() throws IOException {
    Path outside = Files.write(temp.resolve("secret"), new byte[10]);
    Files.createSymbolicLink(spill.path().resolve("link"), outside);
    RefOutsideSpillDirException e = assertThrows(RefOutsideSpillDirException.class, () -> resolver.map(ref("link", 0, 1)));
    assertTrue(e.getMessage().contains("outside the spill directory"), e.getMessage());
  }

  @Test
  void givenSymlinkInside_thenResolved() throws IOException {
    RefPointer r = spill.write(ContentFormat.MSGPACK, ByteBuffer.wrap(new byte[] {5}));
    Files.createSymbolicLink(spill.path().resolve("alias"), spill.path().resolve(r.path()));
    assertEquals(5, resolver.map(ref("alias", 0, 1)).get(0));
  }

  @Test
  void givenMissingFileOrDirectory_thenRefNotFound() throws IOException {
    assertThrows(RefNotFoundException.class, () -> resolver.map(ref("nope.msgpack", 0, 1)));
    Files.createDirectory(spill.path().resolve("sub"));
    assertThrows(RefNotFoundException.class, () -> resolver.map(ref("sub", 0, 0)));
  }

  @Test
  void givenRangeOutsideFileOrNegative_thenRefOutOfRange() throws IOException {
    RefPointer r = spill.write(ContentFormat.MSGPACK, ByteBuffer.wrap(new byte[10]));
    assertEquals(10, resolver.map(ref(r.path(), 0, 10)).remaining());
    assertEquals(0, resolver.map(ref(r.path(), 10, 0)).remaining());
    assertThrows(RefOutOfRangeException.class, () -> resolver.map(ref(r.path(), 5, 6)));
    assertThrows(RefOutOfRangeException.class, () -> resolver.map(ref(r.path(), 11, 0)));
    assertThrows(RefOutOfRangeException.class, () -> resolver.map(ref(r.path(), -1, 2)));
    assertThrows(RefOutOfRangeException.class, () -> resolver.map(ref(r.path(), 0, -2)));
  }

  @Test
  void givenLengthOverMaxRefBytes_thenFrameTooLongBeforeTheFileIsLookedAt() {
    FrameTooLongException e = assertThrows(FrameTooLongException.class, () -> resolver.validate(ref("does-not-exist", 0, 1001)));
    assertTrue(e.getMessage().contains("max_ref_bytes 1000"), e.getMessage());
  }
}
