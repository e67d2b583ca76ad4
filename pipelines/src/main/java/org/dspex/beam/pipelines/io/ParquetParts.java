package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.io.SeekableInputStream;
import org.apache.parquet.schema.MessageType;

/**
 * Parquet shard files joined into the command's part files without decoding a value: their row
 * groups are copied as they are (column chunks, with their statistics, column and offset indexes
 * and bloom filters), in shard order, into parts of roughly equal size (whole row groups), under
 * the schema and key-value metadata the shards were written with (parquet-avro's Avro schema,
 * the standard three-level lists of {@link WriteOutput#parquetSink}). Memory holds the shards'
 * footers and a copy buffer, whatever the data's size. A part with no row group is written as
 * {@link EmptyOutputs#parquet} writes an empty output: the schema alone.
 */
final class ParquetParts {
  private ParquetParts() {}

  /** A row group of a shard file. */
  private record Group(String file, int index, long bytes) {}

  /**
   * Writes the row groups of {@code shards} into exactly {@code parts}; {@code schema}, the Avro
   * schema of the written rows, for parts that get none.
   */
  static void write(List<MatchResult.Metadata> shards, List<String> parts, org.apache.avro.Schema schema)
      throws IOException {
    List<Group> groups = new ArrayList<>();
    FileMetaData meta = null;
    long total = 0;
    for (MatchResult.Metadata m : shards) {
      String file = m.resourceId().toString();
      try (SeekableByteChannel ch = BeamFiles.openSeekable(file);
          ParquetFileReader r = ParquetFileReader.open(new ChannelInputFile(ch, file))) {
        FileMetaData fm = r.getFooter().getFileMetaData();
        if (meta == null) {
          meta = fm;
        } else if (!meta.getSchema().equals(fm.getSchema())) {
          throw new IOException("shard " + file + " has another schema: " + fm.getSchema() + " instead of "
              + meta.getSchema());
        }
        List<BlockMetaData> blocks = r.getRowGroups();
        for (int i = 0; i < blocks.size(); i++) {
          if (blocks.get(i).getRowCount() > 0) {
            groups.add(new Group(file, i, blocks.get(i).getCompressedSize()));
            total += blocks.get(i).getCompressedSize();
          }
        }
      }
    }
    // Each row group goes to the part its first byte falls in: contiguous, and as even as whole
    // row groups allow; the first part is never empty while there are rows.
    List<List<Group>> assigned = new ArrayList<>();
    for (int p = 0; p < parts.size(); p++) {
      assigned.add(new ArrayList<>());
    }
    long before = 0;
    for (Group g : groups) {
      int p = (int) Math.min(parts.size() - 1, before * parts.size() / Math.max(1, total));
      assigned.get(p).add(g);
      before += g.bytes();
    }
    for (int p = 0; p < parts.size(); p++) {
      if (assigned.get(p).isEmpty()) {
        EmptyOutputs.parquet(parts.get(p), schema);
      } else {
        append(assigned.get(p), parts.get(p), meta.getSchema(), meta.getKeyValueMetaData());
      }
    }
  }

  private static void append(List<Group> groups, String part, MessageType schema, Map<String, String> keyValues)
      throws IOException {
    ParquetFileWriter w = new ParquetFileWriter(new ChannelOutputFile(part), schema, ParquetFileWriter.Mode.CREATE,
        ParquetWriter.DEFAULT_BLOCK_SIZE, 0);
    w.start();
    int i = 0;
    while (i < groups.size()) {
      String file = groups.get(i).file();
      // One footer reader (for the indexes) and one data stream per shard file.
      try (SeekableByteChannel meta = BeamFiles.openSeekable(file);
          ParquetFileReader r = ParquetFileReader.open(new ChannelInputFile(meta, file));
          SeekableByteChannel data = BeamFiles.openSeekable(file);
          SeekableInputStream in = new ChannelInputFile(data, file).newStream()) {
        for (; i < groups.size() && groups.get(i).file().equals(file); i++) {
          BlockMetaData block = r.getRowGroups().get(groups.get(i).index());
          w.startBlock(block.getRowCount());
          for (ColumnChunkMetaData c : block.getColumns()) {
            w.appendColumnChunk(schema.getColumnDescription(c.getPath().toArray()), in, c,
                r.readBloomFilter(c), r.readColumnIndex(c), r.readOffsetIndex(c));
          }
          w.endBlock();
        }
      }
    }
    w.end(keyValues);
  }
}
