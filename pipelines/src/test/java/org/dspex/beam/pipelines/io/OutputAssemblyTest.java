package org.dspex.beam.pipelines.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shard files joined into the output's files: JSONL lines in shard order cut into parts of about
 * equal size at line ends; Parquet row groups copied into one file or several with the schema,
 * the Avro metadata and the three-level lists of the command's own writer, every row readable
 * again; parts that get nothing are still valid files.
 */
class OutputAssemblyTest {
  private static final Schema ROW = Schema.builder().addNullableField("id", Schema.FieldType.STRING)
      .addArrayField("embedding", Schema.FieldType.FLOAT).build();

  @TempDir Path dir;

  @BeforeAll
  static void registerFileSystems() {
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
  }

  private List<MatchResult.Metadata> metadata(List<Path> files) throws Exception {
    List<MatchResult.Metadata> out = new ArrayList<>();
    for (Path f : files) {
      out.add(FileSystems.matchSingleFileSpec(f.toString()));
    }
    return out;
  }

  @Test
  void givenJsonlShards_whenSplitIntoThreeParts_thenEveryLineOnceInOrderAndThePartsAboutEven() throws Exception {
    List<Path> shards = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    for (int s = 0; s < 4; s++) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < 250 * (s + 1); i++) {
        String line = "{\"shard\": " + s + ", \"i\": " + i + ", \"pad\": \"" + "x".repeat(i % 37) + "\"}";
        lines.add(line);
        b.append(line).append('\n');
      }
      shards.add(Files.writeString(dir.resolve("shard-" + s + ".jsonl"), b.toString()));
    }
    List<String> parts = List.of(dir.resolve("p0").toString(), dir.resolve("p1").toString(),
        dir.resolve("p2").toString());
    JsonlParts.write(metadata(shards), parts);
    List<String> joined = new ArrayList<>();
    long total = 0;
    List<Long> sizes = new ArrayList<>();
    for (String p : parts) {
      joined.addAll(Files.readAllLines(Path.of(p)));
      sizes.add(Files.size(Path.of(p)));
      total += Files.size(Path.of(p));
    }
    assertEquals(lines, joined);
    for (long size : sizes) {
      assertTrue(Math.abs(size - total / 3.0) < 200, () -> "uneven parts " + sizes);
    }
  }

  @Test
  void givenFewerLinesThanParts_thenTheLastPartsAreEmptyFiles() throws Exception {
    Path shard = Files.writeString(dir.resolve("s.jsonl"), "{\"a\": 1}\n");
    List<String> parts = List.of(dir.resolve("p0").toString(), dir.resolve("p1").toString());
    JsonlParts.write(metadata(List.of(shard)), parts);
    assertEquals("{\"a\": 1}\n", Files.readString(Path.of(parts.get(0))));
    assertEquals(0, Files.size(Path.of(parts.get(1))));
    JsonlParts.write(List.of(), List.of(dir.resolve("none").toString()));
    assertEquals(0, Files.size(dir.resolve("none")));
  }

  /** A Parquet shard as the command's sink writes one: rows {@code from} to {@code to}. */
  private Path parquetShard(String name, int from, int to) throws Exception {
    org.apache.avro.Schema avro = AvroUtils.toAvroSchema(ROW);
    Path file = dir.resolve(name);
    try (var ch = Files.newByteChannel(file, java.nio.file.StandardOpenOption.CREATE_NEW,
        java.nio.file.StandardOpenOption.WRITE)) {
      FileIO.Sink<GenericRecord> sink = WriteOutput.parquetSink(avro);
      sink.open(ch);
      for (int i = from; i < to; i++) {
        GenericRecord r = new GenericData.Record(avro);
        r.put("id", "r" + i);
        List<Float> v = new ArrayList<>();
        for (int d = 0; d < 384; d++) {
          v.add((float) (i + d / 1000.0));
        }
        r.put("embedding", v);
        sink.write(r);
      }
      sink.flush();
    }
    return file;
  }

  private static List<Map<String, Object>> rows(String file) throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    try (var ch = Files.newByteChannel(Path.of(file)); RecordReader r = RecordReader.open(InputFormat.PARQUET, ch, false)) {
      for (SourceRecord s = r.next(); s != null; s = r.next()) {
        out.add(s.fields());
      }
    }
    return out;
  }

  private static ParquetMetadata footer(String file) throws Exception {
    try (var ch = Files.newByteChannel(Path.of(file));
        ParquetFileReader r = ParquetFileReader.open(new ChannelInputFile(ch, file))) {
      return r.getFooter();
    }
  }

  @Test
  void givenParquetShards_whenJoined_thenOneFileWithTheirRowGroupsSchemaAndMetadata() throws Exception {
    List<Path> shards = List.of(parquetShard("a.parquet", 0, 100), parquetShard("b.parquet", 100, 101),
        parquetShard("c.parquet", 101, 350));
    String out = dir.resolve("out.parquet").toString();
    ParquetParts.write(metadata(shards), List.of(out), AvroUtils.toAvroSchema(ROW));
    List<Map<String, Object>> rows = rows(out);
    assertEquals(350, rows.size());
    for (int i = 0; i < rows.size(); i++) {
      assertEquals("r" + i, rows.get(i).get("id"));
      assertEquals(384, ((List<?>) rows.get(i).get("embedding")).size());
      assertEquals((float) (i + 0.383), ((Number) ((List<?>) rows.get(i).get("embedding")).get(383)).floatValue());
    }
    ParquetMetadata joined = footer(out);
    ParquetMetadata first = footer(shards.get(0).toString());
    assertEquals(3, joined.getBlocks().size());
    assertEquals(first.getFileMetaData().getSchema(), joined.getFileMetaData().getSchema());
    assertEquals(first.getFileMetaData().getKeyValueMetaData(), joined.getFileMetaData().getKeyValueMetaData());
    assertTrue(joined.getFileMetaData().getSchema().toString().contains("repeated group list"),
        "standard three-level lists: " + joined.getFileMetaData().getSchema());
  }

  @Test
  void givenParquetShards_whenSplitIntoParts_thenWholeRowGroupsSpreadAndEmptyPartsHoldTheSchema() throws Exception {
    List<Path> shards = new ArrayList<>();
    for (int s = 0; s < 6; s++) {
      shards.add(parquetShard("s" + s + ".parquet", s * 50, s * 50 + 50));
    }
    List<String> parts = new ArrayList<>();
    for (int p = 0; p < 3; p++) {
      parts.add(dir.resolve("part" + p + ".parquet").toString());
    }
    ParquetParts.write(metadata(shards), parts, AvroUtils.toAvroSchema(ROW));
    List<Object> ids = new ArrayList<>();
    for (String p : parts) {
      List<Map<String, Object>> rows = rows(p);
      assertEquals(100, rows.size(), p);
      ids.addAll(rows.stream().map(r -> r.get("id")).collect(Collectors.toList()));
    }
    assertEquals(300, ids.size());
    assertEquals(300, ids.stream().distinct().count());

    List<String> more = List.of(dir.resolve("x0.parquet").toString(), dir.resolve("x1.parquet").toString());
    ParquetParts.write(metadata(shards.subList(0, 1)), more, AvroUtils.toAvroSchema(ROW));
    assertEquals(50, rows(more.get(0)).size());
    assertEquals(List.of(), rows(more.get(1)));
    assertEquals(footer(more.get(0)).getFileMetaData().getSchema(), footer(more.get(1)).getFileMetaData().getSchema());
    String none = dir.resolve("none.parquet").toString();
    ParquetParts.write(List.of(), List.of(none), AvroUtils.toAvroSchema(ROW));
    assertEquals("PAR1", new String(Files.readAllBytes(Path.of(none)), 0, 4, StandardCharsets.US_ASCII));
    assertEquals(List.of(), rows(none));
  }
}
