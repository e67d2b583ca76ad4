package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.io.Serializable;
import java.util.Locale;
import java.util.UUID;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Where a job writes: the output ({@code out.jsonl} or {@code out.parquet} exactly; with {@code
 * shards}, a folder of that name holding {@code part-SSSSS-of-NNNNN.<ext>} files) and the failures
 * file {@code <output>.failures.jsonl}. Paths are Beam resource specs ({@link BeamFiles}): local
 * paths (relative ones resolved against the working directory) or any scheme a registered Beam
 * file system handles, such as {@code gs://}. Immutable.
 *
 * @param output the output file, or the shards' folder (without a trailing separator)
 * @param format JSONL, or PARQUET for a {@code .parquet} / {@code .pq} output
 * @param shards 0 for exactly one file, else the number of part files
 * @param temp the runner's temporary folder, next to the output (so that the final renames stay
 *     on one file system), removed after the job
 */
public record OutputTarget(String output, Format format, int shards, String temp) implements Serializable {
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

  /**
   * The target for {@code --output path [--shards n]}.
   *
   * @throws IllegalArgumentException when no registered file system handles the path's scheme
   */
  public static OutputTarget of(String path, int shards) {
    String p = path.toLowerCase(Locale.ROOT);
    Format f = p.endsWith(".parquet") || p.endsWith(".pq") ? Format.PARQUET : Format.JSONL;
    String out = BeamFiles.absolute(path);
    return new OutputTarget(out, f, shards, BeamFiles.siblingFolder(out, ".dspex-tmp-" + UUID.randomUUID()));
  }

  /** The failures file: the output's name plus {@code .failures.jsonl}. */
  public String failures() {
    return BeamFiles.sibling(output, BeamFiles.fileName(output) + ".failures.jsonl");
  }

  /** The output or the failures file, whichever exists (null: neither). */
  public @Nullable String existing() throws IOException {
    return BeamFiles.exists(output) ? output : BeamFiles.exists(failures()) ? failures() : null;
  }

  /** Deletes the output (file or folder) and the failures file, for {@code --overwrite}. */
  public void deleteExisting() throws IOException {
    BeamFiles.delete(output);
    BeamFiles.delete(failures());
  }

  /** Makes the folder the output goes into (the shards' folder, or the file's), where folders exist. */
  public void makeFolders() throws IOException {
    BeamFiles.makeFolder(shards > 0 ? output : BeamFiles.parent(output));
  }

  /** Deletes the temporary folder. */
  public void deleteTemp() throws IOException {
    BeamFiles.delete(temp);
  }
}
