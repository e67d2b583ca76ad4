package org.dspex.beam.pipelines.io;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions.StandardMoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * The command's file operations outside a pipeline, through Beam's {@link FileSystems}: a path is
 * a Beam resource spec ({@code /data/out.jsonl}, {@code gs://bucket/out.jsonl}, ...) of any file
 * system registered for the job's options, so whatever a pipeline can write, the command can
 * check, delete and read. Folders exist only on the local file system; on object stores a
 * "folder" is the prefix of its objects.
 */
public final class BeamFiles {
  /** The scheme of the local file system. */
  public static final String LOCAL = "file";

  private BeamFiles() {}

  /**
   * The resource of {@code spec}, a file ({@code directory} false) or a folder.
   *
   * @throws IllegalArgumentException for a scheme no registered file system handles
   */
  public static ResourceId resource(String spec, boolean directory) {
    try {
      return FileSystems.matchNewResource(spec, directory);
    } catch (IllegalArgumentException e) {
      if (String.valueOf(e.getMessage()).startsWith("No filesystem found")) {
        throw new IllegalArgumentException("'" + spec + "': " + e.getMessage()
            + " (no Beam file system for it is on the classpath)", e);
      }
      throw e;
    }
  }

  /** Whether {@code spec} (a file, or a folder ending in its separator) is on the local file system. */
  public static boolean isLocal(String spec) {
    return LOCAL.equals(resource(spec, spec.endsWith("/")).getScheme());
  }

  /**
   * {@code spec} with a local path made absolute against the working directory and normalised, as
   * a user means a relative path; other specs as given.
   */
  public static String absolute(String spec) {
    return isLocal(spec) ? Path.of(spec).toAbsolutePath().normalize().toString() : spec;
  }

  /** The spec of the file {@code name} in the folder that holds {@code spec}. */
  public static String sibling(String spec, String name) {
    return resource(spec, false).getCurrentDirectory().resolve(name, StandardResolveOptions.RESOLVE_FILE).toString();
  }

  /** The spec of the folder {@code name} next to {@code spec}. */
  public static String siblingFolder(String spec, String name) {
    return resource(spec, false).getCurrentDirectory().resolve(name, StandardResolveOptions.RESOLVE_DIRECTORY)
        .toString();
  }

  /** The folder that holds {@code spec}, as a spec ending in its separator. */
  public static String parent(String spec) {
    return resource(spec, false).getCurrentDirectory().toString();
  }

  /** The file name of {@code spec}. */
  public static String fileName(String spec) {
    return resource(spec, false).getFilename();
  }

  /**
   * Whether {@code spec} exists: as a local file or folder (or symbolic link), or as an object or a
   * prefix of objects. Local paths are asked directly: Beam's local glob match of {@code
   * path/**} walks the whole tree of the path's parent when the path does not exist.
   */
  public static boolean exists(String spec) throws IOException {
    if (isLocal(spec)) {
      return Files.exists(localPath(spec), LinkOption.NOFOLLOW_LINKS);
    }
    return !match(spec).isEmpty() || !filesUnder(spec).isEmpty();
  }

  /**
   * The files named {@code name} in those subfolders of {@code folder} whose names start with
   * {@code prefix}, as specs. Locally one listing of {@code folder} (no walk of its tree), else
   * the file system's match of {@code folder/prefix*}{@code /name}.
   */
  public static List<String> filesInSubfolders(String folder, String prefix, String name) throws IOException {
    List<String> out = new ArrayList<>();
    if (!isLocal(folder)) {
      for (MatchResult.Metadata m : match(resource(folder, true) + prefix + "*/" + name)) {
        out.add(m.resourceId().toString());
      }
      return out;
    }
    Path dir = localPath(resource(folder, true).toString());
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith(prefix))) {
      for (Path p : s) {
        if (Files.isRegularFile(p.resolve(name))) {
          out.add(p.resolve(name).toString());
        }
      }
    }
    return out;
  }

  private static Path localPath(String spec) {
    return Path.of(resource(spec, spec.endsWith("/")).toString());
  }

  /**
   * Deletes {@code spec}: the file, or the folder with all it holds (on an object store: every
   * object under that prefix). Missing files are no error.
   */
  public static void delete(String spec) throws IOException {
    if (isLocal(spec)) {
      // Beam matches files only, and its file writes leave empty .temp-beam-* folders behind,
      // which a folder cannot be deleted with: local folders are walked directly.
      Path p = localPath(spec);
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.walk(p)) {
          for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
            Files.delete(q);
          }
        }
      } else {
        Files.deleteIfExists(p);
      }
      return;
    }
    List<ResourceId> gone = filesUnder(spec);
    if (!spec.endsWith("/")) {
      gone.add(resource(spec, false));
    }
    FileSystems.delete(gone, StandardMoveOptions.IGNORE_MISSING_FILES);
  }

  /**
   * Makes the local folder {@code spec} and its parents. Object stores have no folders (their
   * writes need none), so there it does nothing; Beam's {@link FileSystems} makes no folders.
   */
  public static void makeFolder(String spec) throws IOException {
    if (isLocal(spec)) {
      Files.createDirectories(Path.of(resource(spec, true).toString()));
    }
  }

  /** A new channel writing the file {@code spec} (replaced if it exists). */
  public static WritableByteChannel create(String spec) throws IOException {
    return FileSystems.create(resource(spec, false), MimeTypes.BINARY);
  }

  /** A new buffered stream writing the file {@code spec} (replaced if it exists). */
  public static OutputStream outputStream(String spec) throws IOException {
    return new BufferedOutputStream(Channels.newOutputStream(create(spec)), 1 << 16);
  }

  /** Writes {@code text} as the file {@code spec}, in UTF-8. */
  public static void writeString(String spec, String text) throws IOException {
    try (OutputStream out = outputStream(spec)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Reads the file {@code spec} as UTF-8 text. */
  public static BufferedReader reader(String spec) throws IOException {
    return new BufferedReader(new InputStreamReader(
        Channels.newInputStream(FileSystems.open(resource(spec, false))), StandardCharsets.UTF_8));
  }

  /**
   * Moves the file {@code from} to {@code to}, replacing it: on the local file system by one atomic
   * rename (both are in one folder tree of the same file system), elsewhere as the file system
   * renames (an object store copies, then deletes).
   */
  public static void rename(String from, String to) throws IOException {
    if (isLocal(from)) {
      Files.move(Path.of(resource(from, false).toString()), Path.of(resource(to, false).toString()),
          StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    FileSystems.rename(List.of(resource(from, false)), List.of(resource(to, false)));
  }

  /**
   * Moves the folder {@code from} with all it holds to {@code to}, which must not exist: one rename
   * on the local file system, each object under the prefix elsewhere.
   */
  public static void renameFolder(String from, String to) throws IOException {
    if (isLocal(from)) {
      Files.move(Path.of(resource(from, true).toString()), Path.of(resource(to, true).toString()),
          StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    String prefix = resource(from, true).toString();
    String target = resource(to, true).toString();
    List<ResourceId> src = filesUnder(from);
    List<ResourceId> dst = new ArrayList<>();
    for (ResourceId r : src) {
      dst.add(resource(target + r.toString().substring(prefix.length()), false));
    }
    FileSystems.rename(src, dst);
  }

  /** Whether {@code spec} is a local folder (object stores have none). */
  public static boolean isLocalFolder(String spec) {
    return isLocal(spec) && Files.isDirectory(localPath(spec));
  }

  /** A channel reading the file {@code spec} that can seek (as Parquet needs). */
  public static SeekableByteChannel openSeekable(String spec) throws IOException {
    ReadableByteChannel ch = FileSystems.open(resource(spec, false));
    if (ch instanceof SeekableByteChannel) {
      return (SeekableByteChannel) ch;
    }
    ch.close();
    throw new IOException("the file system of '" + spec + "' cannot seek");
  }

  /**
   * The cause of a failed file operation in a few words: the system's reason ("Permission denied",
   * "Operation not permitted", "Not a directory"), else the exception's message.
   */
  public static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileAlreadyExistsException) {
      return "'" + e.getMessage() + "' exists and is not a folder";
    }
    if (e instanceof NoSuchFileException) {
      return "'" + e.getMessage() + "' does not exist";
    }
    if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
      return ((FileSystemException) e).getReason();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** The files the pattern {@code spec} matches (none when it matches nothing). */
  public static List<MatchResult.Metadata> match(String spec) throws IOException {
    MatchResult m = FileSystems.match(spec, EmptyMatchTreatment.ALLOW);
    return m.status() == MatchResult.Status.OK ? m.metadata() : List.of();
  }

  private static List<ResourceId> filesUnder(String spec) throws IOException {
    List<ResourceId> files = new ArrayList<>();
    for (MatchResult.Metadata m : match(resource(spec, true) + "**")) {
      files.add(m.resourceId());
    }
    return files;
  }
}
