package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.io.FileIO;

/**
 * Runners write no file for an empty collection; the command promises both files anyway. After a
 * job, creates what is missing: an empty failures file, an empty JSONL output, a Parquet output
 * with the output schema and no rows, an empty shards folder (where folders exist: on an object
 * store, no part file is no folder).
 */
public final class EmptyOutputs {
  /** Hadoop setting for the standard three-level Parquet lists that pyarrow, pandas and DuckDB read. */
  public static final String OLD_LISTS = "parquet.avro.write-old-list-structure";

  private EmptyOutputs() {}

  /** Creates whichever of {@code target}'s files is missing; {@code schema}: the written columns. */
  public static void ensure(OutputTarget target, Schema schema) throws IOException {
    if (!BeamFiles.exists(target.failures())) {
      BeamFiles.create(target.failures()).close();
    }
    if (target.shards() > 0) {
      BeamFiles.makeFolder(target.output());
      return;
    }
    if (BeamFiles.exists(target.output())) {
      return;
    }
    if (target.format() == OutputTarget.Format.JSONL) {
      BeamFiles.create(target.output()).close();
      return;
    }
    try (WritableByteChannel ch = BeamFiles.create(target.output())) {
      FileIO.Sink<GenericRecord> sink = WriteOutput.parquetSink(AvroUtils.toAvroSchema(schema));
      sink.open(ch);
      sink.flush(); // no rows: the file holds the schema only
    }
  }
}
