package org.dspex.beam.pipelines.io;

import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.io.WriteFilesResult;

/**
 * The file layouts the command writes, over any {@link FileIO.Sink} and any Beam file system
 * (paths are resource specs, see {@link BeamFiles}): exactly one named file (the runner writes a
 * temp file and renames it), or a folder of part files.
 */
public final class WriteFiles {
  private WriteFiles() {}

  /** Writes every element into exactly the file {@code path}, through the folder {@code temp}. */
  public static <T> PTransform<PCollection<T>, WriteFilesResult<Void>> single(
      FileIO.Sink<T> sink, String path, String temp) {
    String name = BeamFiles.fileName(path);
    return FileIO.<T>write()
        .via(sink)
        .to(BeamFiles.parent(path))
        .withTempDirectory(temp)
        .withNaming((window, pane, numShards, shardIndex, compression) -> name)
        .withNumShards(1);
  }

  /** Writes into {@code n} files {@code part-SSSSS-of-NNNNN<extension>} in the folder {@code dir}. */
  public static <T> PTransform<PCollection<T>, WriteFilesResult<Void>> shards(
      FileIO.Sink<T> sink, String dir, int n, String extension, String temp) {
    return FileIO.<T>write()
        .via(sink)
        .to(dir)
        .withTempDirectory(temp)
        .withNaming(FileIO.Write.defaultNaming("part", extension))
        .withNumShards(n);
  }
}
