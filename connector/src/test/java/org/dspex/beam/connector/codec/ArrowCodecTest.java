package org.dspex.beam.connector.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ArrowCodecTest {
  private final ArrowCodec codec = new ArrowCodec(64L << 20);

  @AfterEach
  void closeCodec() {
    codec.close();
  }

  private static Map<String, Object> record(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void givenRecordsOfEveryType_thenSchemaByTheRulesAndValuesRoundTrip() throws Exception {
    List<Map<String, Object>> records =
        List.of(
            record("i", 1, "f", 2, "s", "é", "b", true, "y", new byte[] {1}, "l", List.of(1, 2.5), "n", null),
            record("i", 2L, "f", 0.5, "s", null, "b", false, "y", null, "l", List.of(), "n", null),
            record("f", Double.NaN, "extra", "late key"));
    ArrowTable t = codec.decode(codec.encode(records));
    assertEquals(List.of("i", "f", "s", "b", "y", "l", "n", "extra"), t.columnNames());
    assertEquals(
        List.of("int64", "float64", "utf8", "bool", "binary", "list<float64>", "null", "utf8"), t.columnTypes());
    Map<String, Object> first = t.records().get(0);
    assertEquals(1L, first.get("i"));
    assertEquals(2.0, first.get("f"), "ints mixed with floats become float64");
    assertEquals(List.of(1.0, 2.5), first.get("l"));
    assertArrayEquals(new byte[] {1}, (byte[]) first.get("y"));
    Map<String, Object> third = t.records().get(2);
    assertEquals(null, third.get("i"), "a record lacking a key has null there");
    assertTrue(Double.isNaN((Double) third.get("f")));
    assertEquals("late key", third.get("extra"));
  }

  @Test
  void givenMixedColumn_thenEncodingErrorNamesColumnAndCanEncodeSaysNo() {
    List<Map<String, Object>> records = List.of(record("q", "a"), record("q", 3));
    EncodingException e = assertThrows(EncodingException.class, () -> codec.encode(records));
    assertTrue(e.getMessage().contains("'q'") && e.getMessage().contains("str and int"), e.getMessage());
    assertFalse(ArrowCodec.canEncode(records));
    assertFalse(ArrowCodec.canEncode(List.of(record("m", Map.of("nested", 1)))));
    assertFalse(ArrowCodec.canEncode(List.of(record("l", List.of(List.of(1))))));
  }

  @Test
  void givenNoRecords_thenEmptyTable() throws Exception {
    ArrowTable t = codec.decode(codec.encode(List.of()));
    assertEquals(0, t.rowCount());
    assertEquals(List.of(), t.columnNames());
  }

  @Test
  void givenStringColumn_thenOneUtf8ColumnNamedAfterTheBody() throws Exception {
    List<String> texts = Arrays.asList("a", null, "漢字");
    ArrowTable t = codec.decode(codec.encodeColumn("texts", texts));
    assertEquals(List.of("utf8"), t.columnTypes());
    assertEquals(texts, t.column("texts"));
  }

  @Test
  void givenVariantsOtherWritersProduce_thenWidenedToTheValueModel() throws Exception {
    ByteBuffer stream;
    Field fixed =
        new Field(
            "fixed",
            FieldType.nullable(new ArrowType.FixedSizeList(2)),
            List.of(new Field("item", FieldType.nullable(new ArrowType.Int(32, true)), null)));
    Schema schema =
        new Schema(
            List.of(
                Field.nullable("i32", new ArrowType.Int(32, true)),
                Field.nullable("u32", new ArrowType.Int(32, false)),
                Field.nullable("f32", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
                Field.nullable("big", ArrowType.LargeUtf8.INSTANCE),
                fixed));
    try (BufferAllocator alloc = new RootAllocator();
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, alloc)) {
      ((IntVector) root.getVector("i32")).setSafe(0, -7);
      ((UInt4Vector) root.getVector("u32")).setSafe(0, 0xffffffff);
      ((Float4Vector) root.getVector("f32")).setSafe(0, 0.1f);
      ((LargeVarCharVector) root.getVector("big")).setSafe(0, "large".getBytes(StandardCharsets.UTF_8));
      FixedSizeListVector fl = (FixedSizeListVector) root.getVector("fixed");
      fl.setNotNull(0);
      IntVector items = (IntVector) fl.getDataVector();
      items.setSafe(0, 4);
      items.setSafe(1, 5);
      items.setValueCount(2);
      root.setRowCount(1);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (ArrowStreamWriter w = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
        w.start();
        w.writeBatch();
        w.end();
      }
      stream = ByteBuffer.wrap(out.toByteArray());
    }
    ArrowTable t = codec.decode(stream);
    assertEquals(List.of("int32", "uint32", "float32", "large_utf8", "fixed_size_list<int32>[2]"), t.columnTypes());
    Map<String, Object> r = t.records().get(0);
    assertEquals(-7L, r.get("i32"));
    assertEquals(4294967295L, r.get("u32"));
    assertEquals((double) 0.1f, r.get("f32"));
    assertEquals("large", r.get("big"));
    assertEquals(List.of(4L, 5L), r.get("fixed"));
  }

  @Test
  void givenDirectBuffer_thenDecodedFromIt() throws Exception {
    ByteBuffer heap = codec.encode(List.of(record("x", 1)));
    ByteBuffer direct = ByteBuffer.allocateDirect(heap.remaining()).put(heap.duplicate()).flip();
    assertEquals(List.of(record("x", 1L)), codec.decode(direct).records());
  }

  @Test
  void givenGarbageOrTruncatedStream_thenCorruptedPayload() throws Exception {
    assertThrows(CorruptedPayloadException.class, () -> codec.decode(ByteBuffer.wrap("not arrow at all".getBytes(StandardCharsets.UTF_8))));
    ByteBuffer good = codec.encode(List.of(record("x", 1), record("x", 2)));
    ByteBuffer cut = good.duplicate();
    cut.limit(good.limit() / 2);
    assertThrows(CorruptedPayloadException.class, () -> codec.decode(cut));
  }

  @Test
  void givenTextMistakenForAStream_thenCorruptedWithoutAllocatingWhatItAnnounces() {
    // "this" read as a little-endian metadata length is 1,936,287,860 bytes.
    ByteBuffer text = ByteBuffer.wrap("this is not an Arrow IPC stream at all".getBytes(StandardCharsets.US_ASCII));
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    CorruptedPayloadException e = assertThrows(CorruptedPayloadException.class, () -> codec.decode(text));
    assertTrue(threads.getCurrentThreadAllocatedBytes() - before < 1 << 20);
    assertTrue(e.getMessage().contains("1936287860 metadata bytes"), e.getMessage());
  }

  @Test
  void givenManyCalls_thenNoArrowMemoryLeaks() throws Exception {
    List<Map<String, Object>> records = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      records.add(record("i", i, "s", "v" + i, "l", List.of("a", "b")));
    }
    for (int k = 0; k < 5; k++) {
      assertEquals(records.size(), codec.decode(codec.encode(records)).rowCount());
    }
    // close() in @AfterEach throws if any buffer was left allocated.
  }
}
