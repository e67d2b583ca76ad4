package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Files;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.io.FileIO;

/**
 * Runners write no file for an empty collection; the command promises both files anyway. After a
 * job, creates what is missing: an empty failures file, an empty JSONL output, a Parquet output
 * with the output schema and no rows, an empty shards folder.
 */
public final class EmptyOutputs {
  /** Hadoop setting for the standard three-level Parquet lists that pyarrow, pandas and DuckDB read. */
  public static final String OLD_LISTS = "parquet.avro.write-old-list-structure";

  private EmptyOutputs() {}

  /** Creates whichever of {@code target}'s files is missing; {@code schema}: the written columns. */
  public static void ensure(OutputTarget target, Schema schema) throws IOException {
    if (!Files.exists(target.failures())) {
      Files.createFile(target.failures());
    }
    if (target.shards() > 0) {
      Files.createDirectories(target.output());
      return;
    }
    if (Files.exists(target.output())) {
      return;
    }
    if (target.format() == OutputTarget.Format.JSONL) {
      Files.createFile(target.output());
      return;
    }
    try (WritableByteChannel ch = Files.newByteChannel(target.output(),
        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      FileIO.Sink<GenericRecord> sink = WriteOutput.parquetSink(AvroUtils.toAvroSchema(schema));
      sink.open(ch);
      sink.flush(); // no rows: the file holds the schema only
    }
  }
}
