package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroReadSupport;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.api.InitContext;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.api.RecordMaterializer;
import org.apache.parquet.schema.MessageType;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.transforms.failures.ElementJson;

/**
 * Parquet, row by row through parquet-avro's record materializer; a record's line is its 1-based
 * row. Reads the rows {@code [from, to)} of a file: row groups before the first are skipped unread,
 * rows of its row group before {@code from} are decoded and dropped (a span starts at a row group's
 * start unless the row group was cut in parts, or a checkpoint fell inside it). Values become plain
 * Java values through Beam's Avro schema mapping ({@link ElementJson#toMap}): strings, numbers,
 * booleans, lists, maps (nested records too), bytes as base64, timestamps as ISO text.
 */
public final class ParquetRecordReader implements RecordReader {
  private final ParquetFileReader file;
  private final MessageColumnIO columns;
  private final RecordMaterializer<GenericRecord> materializer;
  private final long to;
  private org.apache.parquet.io.@Nullable RecordReader<GenericRecord> group;
  private long leftInGroup;
  private long row;
  private long start;
  private org.apache.avro.Schema avroSchema;
  private Schema beamSchema;

  private ParquetRecordReader(ParquetFileReader file, long from, long to) throws IOException {
    this.file = file;
    this.to = to;
    FileMetaData meta = file.getFileMetaData();
    MessageType schema = meta.getSchema();
    Configuration conf = new Configuration(false);
    AvroReadSupport<GenericRecord> support = new AvroReadSupport<>(GenericData.get());
    Map<String, Set<String>> keyValues = new HashMap<>();
    meta.getKeyValueMetaData().forEach((k, v) -> keyValues.put(k, Set.of(v)));
    ReadSupport.ReadContext context = support.init(new InitContext(conf, keyValues, schema));
    this.materializer = support.prepareForRead(conf, meta.getKeyValueMetaData(), schema, context);
    this.columns = new ColumnIOFactory(meta.getCreatedBy()).getColumnIO(context.getRequestedSchema(), schema, true);
    file.setRequestedSchema(context.getRequestedSchema());
    for (BlockMetaData g : file.getRowGroups()) {
      if (row + g.getRowCount() > from) {
        break;
      }
      row += g.getRowCount();
      file.skipNextRowGroup();
    }
    while (row < from && read() != null) {
      // Rows of the first row group before the span: decoded and dropped.
    }
    this.start = row;
  }

  /**
   * Reads the rows {@code [from, to)} (0-based) of the Parquet file {@code name} behind {@code
   * channel}, which it closes.
   */
  public static ParquetRecordReader rows(SeekableByteChannel channel, String name, long from, long to)
      throws IOException {
    ParquetFileReader file = ParquetFileReader.open(new ChannelInputFile(channel, name));
    try {
      return new ParquetRecordReader(file, from, to);
    } catch (IOException | RuntimeException e) {
      file.close();
      throw e;
    }
  }

  /** The row count of each row group of the Parquet file {@code name} behind {@code channel} (not closed). */
  static List<Long> rowGroups(SeekableByteChannel channel, String name) throws IOException {
    List<Long> rows = new ArrayList<>();
    try (ParquetFileReader r = ParquetFileReader.open(new ChannelInputFile(channel, name))) {
      for (BlockMetaData g : r.getRowGroups()) {
        rows.add(g.getRowCount());
      }
    }
    return rows;
  }

  /** The next row as Parquet gives it, or null past the span or the file. */
  private @Nullable GenericRecord read() throws IOException {
    if (row >= to) {
      return null;
    }
    while (leftInGroup == 0) {
      PageReadStore pages = file.readNextRowGroup();
      if (pages == null) {
        return null;
      }
      group = columns.getRecordReader(pages, materializer);
      leftInGroup = pages.getRowCount();
    }
    GenericRecord r = group.read();
    leftInGroup--;
    start = row;
    row++;
    return r;
  }

  @Override
  public @Nullable SourceRecord next() throws IOException {
    GenericRecord r = read();
    if (r == null) {
      return null;
    }
    if (beamSchema == null || !avroSchema.equals(r.getSchema())) {
      avroSchema = r.getSchema();
      beamSchema = AvroUtils.toBeamSchema(avroSchema);
    }
    Map<String, Object> fields = ElementJson.toMap(AvroUtils.toBeamRowStrict(r, beamSchema));
    return SourceRecord.parsed(row, Json.write(fields), fields);
  }

  @Override
  public long start() {
    return start;
  }

  @Override
  public long end() {
    return row;
  }

  @Override
  public long endLine() {
    return row + 1;
  }

  @Override
  public void close() throws IOException {
    file.close();
  }
}
