package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Parquet, row by row through parquet-avro; a record's line is its 1-based row. Values become
 * plain Java values: strings, longs/ints, floats/doubles, booleans, lists, maps (nested records
 * too), bytes as base64.
 */
public final class ParquetRecordReader implements RecordReader {
  private final ParquetReader<GenericRecord> reader;
  private long row;

  /** Reads the Parquet file behind {@code channel}. */
  public ParquetRecordReader(SeekableByteChannel channel) throws IOException {
    this.reader = AvroParquetReader.<GenericRecord>builder(new ChannelInputFile(channel))
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
    @SuppressWarnings("unchecked")
    Map<String, Object> fields = (Map<String, Object>) plain(r);
    return SourceRecord.parsed(row, Json.write(fields), fields);
  }

  /** An Avro value as a plain Java value. */
  static Object plain(Object v) {
    if (v == null || v instanceof Number || v instanceof Boolean) {
      return v;
    }
    if (v instanceof CharSequence || v instanceof GenericData.EnumSymbol) {
      return v.toString();
    }
    if (v instanceof GenericRecord) {
      GenericRecord g = (GenericRecord) v;
      Map<String, Object> m = new LinkedHashMap<>();
      for (Schema.Field f : g.getSchema().getFields()) {
        m.put(f.name(), plain(g.get(f.pos())));
      }
      return m;
    }
    if (v instanceof List) {
      List<Object> l = new ArrayList<>();
      for (Object o : (List<?>) v) {
        l.add(plain(o));
      }
      return l;
    }
    if (v instanceof Map) {
      Map<String, Object> m = new LinkedHashMap<>();
      ((Map<?, ?>) v).forEach((k, x) -> m.put(String.valueOf(k), plain(x)));
      return m;
    }
    if (v instanceof ByteBuffer) {
      ByteBuffer b = ((ByteBuffer) v).duplicate();
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return Base64.getEncoder().encodeToString(bytes);
    }
    if (v instanceof GenericFixed) {
      return Base64.getEncoder().encodeToString(((GenericFixed) v).bytes());
    }
    return String.valueOf(v);
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
