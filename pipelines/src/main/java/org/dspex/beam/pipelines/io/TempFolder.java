package org.dspex.beam.pipelines.io;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A job's temporary folder ({@link OutputTarget#temp}) and what is left of those of dead jobs.
 * {@link #create} makes it with {@code owner.json} inside, naming the output, the host, the
 * process id and its start time: creating it is also the check that the command can write next
 * to the output, made before any model work. The command deletes the folder on every way out it
 * controls (done, failed, SIGINT, SIGTERM); a {@code kill -9} leaves it, and the next job for the
 * same output deletes it ({@link #sweep}) once its owner process is gone.
 */
public final class TempFolder {
  /** How often deleting the folder is tried while runner threads may still write into it. */
  static final int DELETE_ATTEMPTS = 100;

  /** The owner file's name in the folder. */
  static final String OWNER = "owner.json";

  private static final String OUTPUT = "output";
  private static final String HOST = "host";
  private static final String PID = "pid";
  private static final String STARTED = "started";

  private TempFolder() {}

  /** Creates {@code target}'s temporary folder and its owner file (this process). */
  public static void create(OutputTarget target) throws IOException {
    BeamFiles.makeFolder(target.temp());
    ProcessHandle self = ProcessHandle.current();
    Map<String, Object> owner = new LinkedHashMap<>();
    owner.put(OUTPUT, target.output());
    owner.put(HOST, host());
    owner.put(PID, self.pid());
    owner.put(STARTED, self.info().startInstant().map(Instant::toString).orElse(""));
    BeamFiles.writeString(target.owner(), Json.write(owner) + "\n");
  }

  /**
   * Deletes the temporary folders next to {@code target}'s output that jobs for the same output
   * left on this host and whose process is gone (same pid and start time: a reused pid is another
   * process). Folders of live jobs, of other outputs or other hosts, and folders without a
   * readable owner file stay.
   *
   * @return the folders deleted
   */
  public static List<String> sweep(OutputTarget target) throws IOException {
    List<String> deleted = new ArrayList<>();
    for (String ownerFile : BeamFiles.filesInSubfolders(target.folder(), OutputTarget.TEMP_PREFIX, OWNER)) {
      String folder = BeamFiles.resource(ownerFile, false).getCurrentDirectory().toString();
      if (folder.equals(target.temp())) {
        continue;
      }
      Map<String, Object> owner;
      try (BufferedReader r = BeamFiles.reader(ownerFile)) {
        String line = r.readLine();
        owner = line == null ? Map.of() : Json.parseObject(line);
      } catch (IOException | RuntimeException e) {
        continue;
      }
      if (target.output().equals(owner.get(OUTPUT)) && host().equals(owner.get(HOST)) && !alive(owner)) {
        BeamFiles.delete(folder);
        deleted.add(folder);
      }
    }
    return deleted;
  }

  /**
   * Deletes {@code target}'s temporary folder with all it holds, again while it reappears: a
   * runner's threads may still be writing into it when a failed or interrupted job ends.
   */
  public static void delete(OutputTarget target) throws IOException {
    IOException last = null;
    for (int i = 0; i < DELETE_ATTEMPTS; i++) {
      try {
        BeamFiles.delete(target.temp());
        if (!BeamFiles.exists(target.temp())) {
          return;
        }
      } catch (IOException e) {
        last = e;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw last != null ? last : new IOException("cannot delete the temporary folder " + target.temp());
  }

  /** Whether the owner's process still runs: same pid, same start time. */
  private static boolean alive(Map<String, Object> owner) {
    if (!(owner.get(PID) instanceof Number)) {
      return true;
    }
    Optional<ProcessHandle> p = ProcessHandle.of(((Number) owner.get(PID)).longValue());
    if (p.isEmpty() || !p.get().isAlive()) {
      return false;
    }
    String started = String.valueOf(owner.get(STARTED));
    Optional<Instant> now = p.get().info().startInstant();
    return started.isEmpty() || now.isEmpty() || now.get().toString().equals(started);
  }

  /** This machine's name, as the kernel has it (no name lookup). */
  static String host() {
    try {
      Path kernel = Path.of("/proc/sys/kernel/hostname");
      if (Files.isReadable(kernel)) {
        return Files.readString(kernel, StandardCharsets.UTF_8).strip();
      }
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "";
    }
  }
}
