package org.dspex.beam.connector.protocol;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicLong;
import org.dspex.beam.connector.codec.ContentFormat;

/**
 * The directory that REF bodies are spilled to ({@code docs/protocol.md} section 4): private (mode
 * {@code 0700}), under {@code /dev/shm} when it exists (memory, no disk), else under {@code
 * java.io.tmpdir}.
 *
 * <p>This JVM's files are named {@code j<pid>-<seq>.<format>}, so that files of a dead writer can
 * be told apart and swept ({@link #sweep(String)}; a worker's are {@code w<pid>-*}). A directory
 * made by {@link #create()} belongs to this object and is deleted, with whatever is left in it, by
 * {@link #close()}; one opened with {@link #existing(Path)} is left alone.
 *
 * <pre>{@code
 * try (SpillDirectory spill = SpillDirectory.create()) {
 *   RefPointer ref = spill.write(ContentFormat.ARROW, encodedTable);
 *   ...
 *   spill.delete(ref.path());
 * }
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class SpillDirectory implements Closeable {
  /** Prefix of the directories {@link #create()} makes. */
  public static final String DIRECTORY_PREFIX = "dspex-";

  private static final Path DEV_SHM = Path.of("/dev/shm");
  private static final int WRITE_CHUNK_BYTES = 1 << 20;

  private final Path dir;
  private final boolean owned;
  private final String tag;
  private final AtomicLong seq = new AtomicLong();

  private SpillDirectory(Path dir, boolean owned) {
    this.dir = dir.toAbsolutePath();
    this.owned = owned;
    this.tag = "j" + ProcessHandle.current().pid();
  }

  /** Creates a private directory under {@code /dev/shm} if it exists, else {@code java.io.tmpdir}. */
  public static SpillDirectory create() throws IOException {
    Path parent =
        Files.isDirectory(DEV_SHM) && Files.isWritable(DEV_SHM)
            ? DEV_SHM
            : Path.of(System.getProperty("java.io.tmpdir"));
    return create(parent);
  }

  /** Creates a private directory under {@code parent}. */
  public static SpillDirectory create(Path parent) throws IOException {
    Path dir =
        Files.createTempDirectory(
            parent, DIRECTORY_PREFIX, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    return new SpillDirectory(dir, true);
  }

  /** Uses an existing directory, which {@link #close()} leaves in place (tests, golden frames). */
  public static SpillDirectory existing(Path dir) {
    Checks.checkArgument(Files.isDirectory(dir), "spill directory %s does not exist", dir);
    return new SpillDirectory(dir, false);
  }

  /** The directory's absolute path, as sent in {@code hello}. */
  public Path path() {
    return dir;
  }

  /** This JVM's file-name tag, {@code j<pid>}. */
  public String tag() {
    return tag;
  }

  /** A resolver for REF frames received into this directory. */
  public RefResolver resolver(long maxRefBytes) throws IOException {
    return new RefResolver(dir, maxRefBytes);
  }

  /**
   * Writes {@code data}'s remaining bytes to a new file {@code j<pid>-<seq>.<format>} and returns
   * the REF that points at it (the buffer's position is left as is).
   */
  public RefPointer write(ContentFormat format, ByteBuffer data) throws IOException {
    Checks.checkNotNull(format, "format");
    while (true) {
      String name = tag + "-" + seq.incrementAndGet() + "." + format.wireName();
      Path file = dir.resolve(name);
      try (FileChannel ch =
          FileChannel.open(
              file,
              java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
        ByteBuffer view = data.duplicate();
        long length = view.remaining();
        // Heap buffers go through a JDK temporary direct buffer as large as each write; chunks keep it small.
        while (view.hasRemaining()) {
          ByteBuffer chunk = view.slice();
          chunk.limit(Math.min(chunk.remaining(), WRITE_CHUNK_BYTES));
          int n = ch.write(chunk);
          view.position(view.position() + n);
        }
        return new RefPointer(name, 0, length, format);
      } catch (FileAlreadyExistsException e) {
        // A file left by an earlier JVM with the same pid; take the next number.
      }
    }
  }

  /** Deletes a file of this directory by its relative name; returns whether it existed. */
  public boolean delete(String relativeName) {
    try {
      return Files.deleteIfExists(dir.resolve(relativeName));
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Deletes every file whose name starts with {@code prefix} (say {@code "w1234-"}, a dead worker's
   * files); returns how many were deleted.
   */
  public int sweep(String prefix) throws IOException {
    Checks.checkArgument(prefix != null && !prefix.isEmpty(), "sweep prefix must not be empty");
    int n = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, prefix + "*")) {
      for (Path f : files) {
        if (Files.deleteIfExists(f)) {
          n++;
        }
      }
    }
    return n;
  }

  /** Deletes the directory and everything in it if this object created it. */
  @Override
  public void close() throws IOException {
    if (!owned) {
      return;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        Files.deleteIfExists(f);
      }
    } catch (NoSuchFileException e) {
      return;
    }
    Files.deleteIfExists(dir);
  }

  @Override
  public String toString() {
    return dir.toString();
  }
}
