package org.dspex.beam.connector.environment;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The venvs of a cache root, one per lock hash ({@code venv-<first 16 hex digits>}), each built at most
 * once: threads of a JVM wait on the venv's monitor, processes on its lock file ({@code
 * venv-<hash>.lock}, an OS file lock, released when a builder dies), and whoever gets it first builds
 * while the others then find the marker. A venv folder without the marker of its lock's hash, or whose
 * interpreter no longer runs, is removed and built again.
 */
final class ManagedVenvs {
  private static final Logger LOG = LoggerFactory.getLogger(PythonEnvironment.class);
  private static final Map<Path, Object> MONITORS = new ConcurrentHashMap<>();
  /** Venvs this JVM checked or built: later workers skip the check. */
  private static final Map<Path, Path> READY = new ConcurrentHashMap<>();

  /** A usable venv, and whether this call built it. */
  record Venv(Path dir, Path python, boolean built) {}

  private ManagedVenvs() {}

  /** The venv of {@code lock} under {@code env}'s cache root, built first when missing or unusable. */
  static Venv ensure(PythonEnvironment env, BundledLock lock) throws EnvironmentSetupException {
    Path root = env.cacheDir();
    Path dir = root.resolve("venv-" + lock.sha256().substring(0, 16));
    Path python = dir.resolve("bin").resolve("python");
    if (READY.containsKey(dir) && Files.isExecutable(python)) {
      return new Venv(dir, python, false);
    }
    long deadline = System.nanoTime() + env.buildTimeout().toNanos();
    synchronized (MONITORS.computeIfAbsent(dir, d -> new Object())) {
      if (READY.containsKey(dir) && Files.isExecutable(python)) {
        return new Venv(dir, python, false);
      }
      try {
        Files.createDirectories(root);
      } catch (IOException e) {
        throw new EnvironmentSetupException("cannot create the cache folder " + root + " for the workers' venv: "
            + e + " (set PythonEnvironment.withCacheDir or $" + PythonEnvironment.CACHE_DIR_ENV + ")", e);
      }
      Path lockFile = root.resolve(dir.getFileName() + ".lock");
      try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock held = acquire(channel, lockFile, deadline)) {
        boolean built = false;
        if (!usable(dir, lock, deadline)) {
          if (Files.exists(dir)) {
            LOG.warn("dspex: the workers' venv {} is incomplete or damaged (an interrupted build?); building it again",
                dir);
            deleteTree(dir);
          }
          try {
            new VenvBuild(env, lock, dir, deadline).run();
          } catch (EnvironmentSetupException e) {
            deleteQuietly(dir);
            throw e;
          }
          built = true;
        }
        READY.put(dir, python);
        return new Venv(dir, python, built);
      } catch (IOException e) {
        throw new EnvironmentSetupException("cannot lock " + lockFile + " to build the workers' venv: " + e, e);
      }
    }
  }

  private static FileLock acquire(FileChannel channel, Path lockFile, long deadline)
      throws IOException, EnvironmentSetupException {
    boolean told = false;
    while (true) {
      FileLock lock = channel.tryLock();
      if (lock != null) {
        return lock;
      }
      if (!told) {
        LOG.info("dspex: waiting for another process to finish building the workers' venv ({})", lockFile);
        told = true;
      }
      if (System.nanoTime() > deadline) {
        throw new EnvironmentSetupException("another process held " + lockFile + " for longer than the build timeout"
            + " (PythonEnvironment.withBuildTimeout) while building the workers' venv", null);
      }
      try {
        TimeUnit.MILLISECONDS.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EnvironmentSetupException("interrupted while waiting for " + lockFile, e);
      }
    }
  }

  /** Built to its end from this lock, and its interpreter still runs. */
  private static boolean usable(Path dir, BundledLock lock, long deadline) throws EnvironmentSetupException {
    Path marker = dir.resolve(VenvBuild.MARKER);
    Path python = dir.resolve("bin").resolve("python");
    try {
      if (!Files.isRegularFile(marker) || !Files.readString(marker).trim().equals(lock.sha256())
          || !Files.isExecutable(python)) {
        return false;
      }
    } catch (IOException e) {
      return false;
    }
    return Command.run(List.of(python.toString(), "-c", "import sys"), null, deadline, line -> { }).ok();
  }

  private static void deleteQuietly(Path dir) {
    try {
      deleteTree(dir);
    } catch (IOException e) {
      LOG.warn("dspex: cannot remove the failed venv build {}: {}", dir, e.toString());
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        Files.deleteIfExists(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
