package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A private directory (0700) of this JVM for the files the connector leaves on the machine: the
 * bundled worker code, a temporary directory per worker, the REF spill directories. It is named
 * {@code dspex-jvm-<pid>-<random>} and holds a lock file that this JVM keeps locked while it runs.
 *
 * <p>Every exit path cleans up: a worker's directory is deleted once the worker is gone, the JVM's
 * shutdown hook deletes the root after its workers ended, and the first root a JVM makes sweeps its
 * siblings whose lock no process holds: roots of JVMs killed with SIGKILL, which run no hook. The
 * lock tells, not the pid in the name: a pid is reused, a lock dies with its process. Two roots at
 * most per JVM: {@link #onDisk()} under {@code java.io.tmpdir}, and {@link #inMemory()} under
 * {@code /dev/shm} when it is there (for spill files, which are memory-mapped).
 */
final class ScratchRoot {
  /** Prefix of the roots' names. */
  static final String PREFIX = "dspex-jvm-";
  /** The lock file in each root. */
  static final String LOCK_FILE = ".lock";
  /**
   * A root younger than this is never swept: one that a starting JVM made but has not locked yet
   * must not be taken for a dead one.
   */
  static final Duration SWEEP_MIN_AGE = Duration.ofSeconds(10);

  private static final Path DEV_SHM = Path.of("/dev/shm");
  private static final FileAttribute<?> PRIVATE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
  /** Roots this JVM holds: never swept here (closing a channel on a lock file would drop its lock). */
  private static final Set<Path> OWN = ConcurrentHashMap.newKeySet();

  private static ScratchRoot disk;
  private static ScratchRoot memory;

  private final Path path;
  // Held for the JVM's life: the lock is what tells other JVMs this root is in use.
  @SuppressWarnings("unused")
  private final FileChannel lockChannel;
  @SuppressWarnings("unused")
  private final FileLock lock;

  private ScratchRoot(Path path, FileChannel lockChannel, FileLock lock) {
    this.path = path;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /** This JVM's root under {@code java.io.tmpdir}, made (and its stale siblings swept) on first use. */
  static synchronized ScratchRoot onDisk() throws IOException {
    if (disk == null) {
      disk = create(Path.of(System.getProperty("java.io.tmpdir")));
    }
    return disk;
  }

  /** This JVM's root under {@code /dev/shm} if it is writable, else {@link #onDisk()}. */
  static synchronized ScratchRoot inMemory() throws IOException {
    if (memory == null) {
      memory = Files.isDirectory(DEV_SHM) && Files.isWritable(DEV_SHM) ? create(DEV_SHM) : onDisk();
    }
    return memory;
  }

  /**
   * Makes a locked root under {@code parent}, deleted by the JVM's shutdown hook once the workers
   * ended, then sweeps the roots that dead JVMs left there.
   */
  static ScratchRoot create(Path parent) throws IOException {
    Path dir = Files.createTempDirectory(parent, PREFIX + ProcessHandle.current().pid() + "-", PRIVATE);
    FileChannel channel = FileChannel.open(dir.resolve(LOCK_FILE),
        Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
    FileLock lock = channel.lock();
    OWN.add(dir.toAbsolutePath());
    ChildProcesses.deleteAtExit(dir);
    sweep(parent);
    return new ScratchRoot(dir, channel, lock);
  }

  /** The root's absolute path. */
  Path path() {
    return path;
  }

  /** A new private (0700) directory in the root, named {@code prefix} plus a random part. */
  Path newDirectory(String prefix) throws IOException {
    return Files.createTempDirectory(path, prefix, PRIVATE);
  }

  /**
   * Deletes the roots under {@code parent} that no live process holds (and that are not being
   * made right now); returns how many. Roots of this JVM are left alone.
   */
  static int sweep(Path parent) {
    int deleted = 0;
    try (DirectoryStream<Path> roots = Files.newDirectoryStream(parent, PREFIX + "*")) {
      for (Path root : roots) {
        if (!OWN.contains(root.toAbsolutePath()) && abandoned(root)) {
          deleteTree(root);
          deleted++;
        }
      }
    } catch (IOException | UncheckedIOException e) {
      // Sweeping is a courtesy: a root we cannot list or read is left for another time.
    }
    return deleted;
  }

  /** Whether {@code root} is old enough and its lock is free (or it never got one). */
  private static boolean abandoned(Path root) {
    try {
      long age = System.currentTimeMillis() - Files.getLastModifiedTime(root).toMillis();
      if (age < SWEEP_MIN_AGE.toMillis() || !Files.isDirectory(root)) {
        return false;
      }
      Path lockFile = root.resolve(LOCK_FILE);
      if (!Files.exists(lockFile)) {
        return true;
      }
      try (FileChannel c = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
        FileLock l = c.tryLock();
        if (l == null) {
          return false;
        }
        l.release();
        return true;
      } catch (OverlappingFileLockException e) {
        return false;
      }
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      // Another user's, or unreadable: not ours to delete.
      return false;
    }
  }

  /** Deletes {@code dir} and everything in it, as far as it can; a file left is swept later. */
  static void deleteTree(Path dir) {
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException | UncheckedIOException e) {
      // Best effort: whatever is left goes with the root, or with the next sweep.
    }
  }
}
