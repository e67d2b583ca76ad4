package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.util.List;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.schemas.Schema;

/**
 * After a job: its shard files ({@link ShardFiles}) streamed into the staged output files
 * ({@link OutputTarget#staged}): the output, one file or exactly {@code --shards} part files
 * ({@link JsonlParts}, {@link ParquetParts}), the one failures file, and optimize's result file
 * when that job wrote one. The output and failures files exist afterwards, empty ones included
 * (an empty JSONL file, a Parquet file with the schema only).
 */
public final class OutputAssembly {
  private OutputAssembly() {}

  /**
   * Assembles {@code target}'s shard files into its staged files; {@code written}, the schema of
   * the written rows (a Parquet output's; unused for JSONL).
   *
   * @return the staged target
   */
  public static OutputTarget assemble(OutputTarget target, Schema written) throws IOException {
    OutputTarget staged = target.staged();
    BeamFiles.makeFolder(staged.shards() > 0 ? staged.output() : staged.folder());
    List<MatchResult.Metadata> output = ShardFiles.list(target.outputShards());
    if (target.format() == OutputTarget.Format.JSONL) {
      JsonlParts.write(output, staged.parts());
    } else {
      ParquetParts.write(output, staged.parts(), AvroUtils.toAvroSchema(written));
    }
    JsonlParts.write(ShardFiles.list(target.failureShards()), List.of(staged.failures()));
    List<MatchResult.Metadata> result = ShardFiles.list(target.optimizeResultShards());
    if (!result.isEmpty()) {
      JsonlParts.write(result, List.of(staged.optimizeResult()));
    }
    return staged;
  }
}
