package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Where a job writes: the output ({@code out.jsonl} or {@code out.parquet} exactly; with {@code
 * shards}, a folder of that name holding {@code part-SSSSS-of-NNNNN.<ext>} files) and the failures
 * file {@code <output>.failures.jsonl}. Immutable; local paths.
 *
 * @param output the output file, or the shards' folder
 * @param format JSONL, or PARQUET for a {@code .parquet} / {@code .pq} output
 * @param shards 0 for exactly one file, else the number of part files
 * @param temp the runner's temporary folder, next to the output (so that the final renames stay
 *     on one file system), removed after the job
 */
public record OutputTarget(Path output, Format format, int shards, Path temp) implements Serializable {
  /** The output formats. */
  public enum Format {
    /** One JSON object a line. */
    JSONL(".jsonl"),
    /** Apache Parquet (through parquet-avro; lists in the standard three-level layout). */
    PARQUET(".parquet");

    private final String extension;

    Format(String extension) {
      this.extension = extension;
    }

    /** The part files' extension. */
    public String extension() {
      return extension;
    }
  }

  /** The target for {@code --output path [--shards n]}. */
  public static OutputTarget of(String path, int shards) {
    String p = path.toLowerCase(Locale.ROOT);
    Format f = p.endsWith(".parquet") || p.endsWith(".pq") ? Format.PARQUET : Format.JSONL;
    Path out = Path.of(path).toAbsolutePath().normalize();
    return new OutputTarget(out, f, shards, out.resolveSibling(".dspex-tmp-" + UUID.randomUUID()));
  }

  /** The failures file: the output's name plus {@code .failures.jsonl}. */
  public Path failures() {
    return output.resolveSibling(output.getFileName() + ".failures.jsonl");
  }

  /** The output or the failures file, whichever exists (null: neither). */
  public Path existing() {
    return Files.exists(output) ? output : Files.exists(failures()) ? failures() : null;
  }

  /** Deletes the output (file or folder) and the failures file, for {@code --overwrite}. */
  public void deleteExisting() throws IOException {
    delete(output);
    delete(failures());
  }

  /** Deletes the temporary folder. */
  public void deleteTemp() throws IOException {
    delete(temp);
  }

  private static void delete(Path p) throws IOException {
    if (Files.isDirectory(p)) {
      try (Stream<Path> s = Files.walk(p)) {
        for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
          Files.delete(q);
        }
      }
    } else {
      Files.deleteIfExists(p);
    }
  }
}
