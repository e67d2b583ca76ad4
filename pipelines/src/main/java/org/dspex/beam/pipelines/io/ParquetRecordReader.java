package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.util.Map;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.transforms.failures.ElementJson;

/**
 * Parquet, row by row through parquet-avro; a record's line is its 1-based row. Values become
 * plain Java values through Beam's Avro schema mapping ({@link ElementJson#toMap}): strings,
 * numbers, booleans, lists, maps (nested records too), bytes as base64, timestamps as ISO text.
 */
public final class ParquetRecordReader implements RecordReader {
  private final ParquetReader<GenericRecord> reader;
  private long row;
  private org.apache.avro.Schema avroSchema;
  private Schema beamSchema;

  /** Reads the Parquet file {@code name} behind {@code channel}. */
  public ParquetRecordReader(SeekableByteChannel channel, String name) throws IOException {
    this.reader = AvroParquetReader.<GenericRecord>builder(new ChannelInputFile(channel, name))
        .withDataModel(GenericData.get())
        .withConf(new Configuration(false))
        .build();
  }

  @Override
  public @Nullable SourceRecord next() throws IOException {
    GenericRecord r = reader.read();
    if (r == null) {
      return null;
    }
    row++;
    if (beamSchema == null || !avroSchema.equals(r.getSchema())) {
      avroSchema = r.getSchema();
      beamSchema = AvroUtils.toBeamSchema(avroSchema);
    }
    Map<String, Object> fields = ElementJson.toMap(AvroUtils.toBeamRowStrict(r, beamSchema));
    return SourceRecord.parsed(row, Json.write(fields), fields);
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
