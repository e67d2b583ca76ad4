package org.dspex.beam.pipelines.io;

import static org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions.RESOLVE_DIRECTORY;
import static org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions.RESOLVE_FILE;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Where a job writes: the output ({@code out.jsonl} or {@code out.parquet} exactly; with {@code
 * shards}, a folder of that name holding {@code part-SSSSS-of-NNNNN.<ext>} files), the failures
 * file {@code <output>.failures.jsonl}, trainset's {@code <output>.inputs.json} and optimize's {@code
 * <output>.optimize.json}: together the
 * output's files ({@link #files}). Paths are Beam resource specs ({@link BeamFiles}): local paths
 * (relative ones resolved against the working directory) or any scheme a registered Beam file
 * system handles, such as {@code gs://}. Immutable.
 *
 * <p>A job writes nothing in place: its pipeline writes shard files into the temporary folder
 * {@link #temp} next to the output, the command assembles them there into the {@link #staged}
 * files, and only a job that ran to its end replaces the output's files with them ({@link
 * ReplaceOutput}). The temporary folder's layout:
 *
 * <pre>
 * .dspex-tmp-&lt;uuid&gt;/owner.json             who runs it ({@link TempFolder})
 *                     output/shard-*         the output as the runner's bundles wrote it,
 *                            shards.txt      and the shards of committed bundles ({@link ShardFiles})
 *                     failures/...           the failures likewise
 *                     optimize-result/...    optimize's result likewise
 *                     final/&lt;output files&gt;   the staged files
 * </pre>
 *
 * @param output the output file, or the shards' folder (without a trailing separator)
 * @param format JSONL, or PARQUET for a {@code .parquet} / {@code .pq} output
 * @param shards 0 for exactly one file, else the number of part files
 * @param temp the job's temporary folder, next to the output (so that the final renames stay on
 *     one file system), removed after the job
 */
public record OutputTarget(String output, Format format, int shards, String temp) implements Serializable {
  /** What the failures file adds to the output's name. */
  public static final String FAILURES_SUFFIX = ".failures.jsonl";
  /** What trainset's input-keys file adds to the output's name. */
  public static final String INPUTS_SUFFIX = ".inputs.json";
  /** What optimize's result file (the result row without the program) adds to the output's name. */
  public static final String OPTIMIZE_SUFFIX = ".optimize.json";
  /** How the names of the jobs' temporary folders start. */
  public static final String TEMP_PREFIX = ".dspex-tmp-";

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
    return new OutputTarget(out, f, shards, BeamFiles.siblingFolder(out, TEMP_PREFIX + UUID.randomUUID()));
  }

  /** The failures file: the output's name plus {@value #FAILURES_SUFFIX}. */
  public String failures() {
    return companion(FAILURES_SUFFIX);
  }

  /** Trainset's input keys: the output's name plus {@value #INPUTS_SUFFIX}. */
  public String inputs() {
    return companion(INPUTS_SUFFIX);
  }

  /** Optimize's result file: the output's name plus {@value #OPTIMIZE_SUFFIX}. */
  public String optimizeResult() {
    return companion(OPTIMIZE_SUFFIX);
  }

  /**
   * The output's files, in the order they are replaced: failures, input keys, optimize's result,
   * the output last.
   */
  public List<String> files() {
    return List.of(failures(), inputs(), optimizeResult(), output);
  }

  /** The first of the output's files that exists (null: none). */
  public @Nullable String existing() throws IOException {
    for (String f : List.of(output, failures(), inputs(), optimizeResult())) {
      if (BeamFiles.exists(f)) {
        return f;
      }
    }
    return null;
  }

  /** Deletes the output's files (the output file or folder with all it holds, and its companions). */
  public void deleteExisting() throws IOException {
    for (String f : files()) {
      BeamFiles.delete(f);
    }
  }

  /** The folder that holds the output (and its companions and the temporary folder). */
  public String folder() {
    return BeamFiles.parent(output);
  }

  /** The same files, staged in the temporary folder: what replaces the output's files at the end. */
  public OutputTarget staged() {
    return new OutputTarget(BeamFiles.resource(temp, true).resolve("final", RESOLVE_DIRECTORY)
        .resolve(BeamFiles.fileName(output), RESOLVE_FILE).toString(), format, shards, temp);
  }

  /** The folder the pipeline writes the output's shard files into. */
  public String outputShards() {
    return tempFolder("output");
  }

  /** The folder the pipeline writes the failures' shard files into. */
  public String failureShards() {
    return tempFolder("failures");
  }

  /** The folder the pipeline writes the shard files of optimize's result into. */
  public String optimizeResultShards() {
    return tempFolder("optimize-result");
  }

  /** The file naming the job's owner ({@link TempFolder}). */
  public String owner() {
    return tempFile(TempFolder.OWNER);
  }

  /** The output's part files: the output itself, or the {@code shards} files in its folder. */
  public List<String> parts() {
    if (shards == 0) {
      return List.of(output);
    }
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < shards; i++) {
      parts.add(BeamFiles.resource(output, true).resolve(
          String.format(Locale.ROOT, "part-%05d-of-%05d%s", i, shards, format.extension()), RESOLVE_FILE).toString());
    }
    return parts;
  }

  private String companion(String suffix) {
    return BeamFiles.sibling(output, BeamFiles.fileName(output) + suffix);
  }

  private String tempFolder(String name) {
    return BeamFiles.resource(temp, true).resolve(name, RESOLVE_DIRECTORY).toString();
  }

  private String tempFile(String name) {
    return BeamFiles.resource(temp, true).resolve(name, RESOLVE_FILE).toString();
  }
}
