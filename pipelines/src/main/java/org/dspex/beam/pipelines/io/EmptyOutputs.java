package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileIO;

/**
 * Parquet output files with no rows: runners write no shard for an empty collection, and a part
 * file of {@code --shards} may get no row group, yet the command promises every output file,
 * readable with its columns. Such a file holds the output schema only, written by the command's
 * own Parquet sink so that it is the same as any other output.
 */
public final class EmptyOutputs {
  /** Hadoop setting for the standard three-level Parquet lists that pyarrow, pandas and DuckDB read. */
  public static final String OLD_LISTS = "parquet.avro.write-old-list-structure";

  private EmptyOutputs() {}

  /** Writes {@code file} as a Parquet file of {@code schema} with no rows. */
  public static void parquet(String file, org.apache.avro.Schema schema) throws IOException {
    try (WritableByteChannel ch = BeamFiles.create(file)) {
      FileIO.Sink<GenericRecord> sink = WriteOutput.parquetSink(schema);
      sink.open(ch);
      sink.flush(); // no rows: the file holds the schema only
    }
  }
}
