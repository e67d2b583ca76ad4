package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The checks on an output before a job starts that no file system call would make in time: that
 * the output's files are none of the input files and none of their failures files (compared
 * after resolving relative paths, {@code ..} and symbolic links, and hard links by identity), and
 * that an output to replace is not read-only.
 */
public final class OutputGuard {
  private OutputGuard() {}

  /**
   * Why {@code target} may not be written with {@code inputs} as the job's input files, in one
   * line; null when nothing is in the way. Refused: an output file (the output, its failures
   * file, its input keys) that is an input file; an output that is the failures file of an input
   * (which re-running that input's failures would need); a shards folder holding an input file.
   */
  public static @Nullable String conflict(OutputTarget target, List<String> inputs) {
    for (String in : inputs) {
      if (same(target.output(), in)) {
        return "--output '" + target.output() + "' is the input file '" + in + "'; write the output elsewhere";
      }
      if (same(target.failures(), in)) {
        return "the failures file of --output '" + target.output() + "' would be the input '" + in
            + "', which it replaces; write the output elsewhere";
      }
      if (same(target.inputs(), in)) {
        return "the input-keys file of --output '" + target.output() + "' would be the input '" + in
            + "'; write the output elsewhere";
      }
      String inputFailures = BeamFiles.sibling(in, BeamFiles.fileName(in) + OutputTarget.FAILURES_SUFFIX);
      if (same(target.output(), inputFailures)) {
        return "--output '" + target.output() + "' is the failures file of the input '" + in
            + "'; write the output elsewhere";
      }
      if (target.shards() > 0 && canonical(in).startsWith(canonical(target.output()) + "/")) {
        return "--output '" + target.output() + "' (the folder of --shards) holds the input file '" + in
            + "'; write the output elsewhere";
      }
    }
    return null;
  }

  /**
   * Whether the existing local file or folder {@code spec} is read-only: this process may not
   * write it, or no one may (no write permission bit; checked as well because the super-user
   * may write anything). Object stores have no such thing.
   */
  public static boolean readOnly(String spec) {
    if (!BeamFiles.isLocal(spec)) {
      return false;
    }
    Path p = Path.of(spec);
    if (!Files.exists(p)) {
      return false;
    }
    if (!Files.isWritable(p)) {
      return true;
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
      return !perms.contains(PosixFilePermission.OWNER_WRITE) && !perms.contains(PosixFilePermission.GROUP_WRITE)
          && !perms.contains(PosixFilePermission.OTHERS_WRITE);
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** Whether {@code a} and {@code b} name the same file once resolved (hard links: the same file). */
  static boolean same(String a, String b) {
    if (!BeamFiles.isLocal(a) || !BeamFiles.isLocal(b)) {
      return a.equals(b);
    }
    Path pa = Path.of(a);
    Path pb = Path.of(b);
    try {
      if (Files.exists(pa) && Files.exists(pb) && Files.isSameFile(pa, pb)) {
        return true;
      }
    } catch (IOException e) {
      // Fall back to the names.
    }
    return canonical(a).equals(canonical(b));
  }

  /**
   * The local path {@code spec} made absolute, normalised, and with the symbolic links of its
   * longest existing prefix resolved; other specs as given.
   */
  static String canonical(String spec) {
    if (!BeamFiles.isLocal(spec)) {
      return spec;
    }
    Path p = Path.of(spec).toAbsolutePath().normalize();
    Path rest = Path.of("");
    while (p != null) {
      try {
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) || Files.exists(p)) {
          return p.toRealPath().resolve(rest).normalize().toString();
        }
      } catch (IOException e) {
        // A dangling link or no access: keep the name as it is.
      }
      Path name = p.getFileName();
      rest = name == null ? rest : name.resolve(rest);
      p = p.getParent();
    }
    return Path.of(spec).toAbsolutePath().normalize().toString();
  }
}
