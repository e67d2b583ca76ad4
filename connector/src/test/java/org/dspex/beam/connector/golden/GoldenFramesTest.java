package org.dspex.beam.connector.golden;

import static org.dspex.beam.connector.golden.GoldenValues.assertSameValue;
import static org.dspex.beam.connector.golden.GoldenValues.untag;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.dspex.beam.connector.codec.ArrowTable;
import org.dspex.beam.connector.codec.Codec;
import org.dspex.beam.connector.codec.CodecException;
import org.dspex.beam.connector.codec.Codecs;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.codec.NpyDtype;
import org.dspex.beam.connector.protocol.Body;
import org.dspex.beam.connector.protocol.Frame;
import org.dspex.beam.connector.protocol.FrameReader;
import org.dspex.beam.connector.protocol.FrameType;
import org.dspex.beam.connector.protocol.Incoming;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.MessageReader;
import org.dspex.beam.connector.protocol.ProtocolException;
import org.dspex.beam.connector.protocol.ProtocolSettings;
import org.dspex.beam.connector.protocol.ProtocolVersion;
import org.dspex.beam.connector.protocol.RefPointer;
import org.dspex.beam.connector.protocol.RefResolver;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The golden frames of {@code testdata/frames} (written by the Python side from the same
 * specification): every case decodes to what the manifest says and, where the encoding is
 * canonical, the manifest's content encodes to the very same bytes; every error case fails with
 * exactly the named error, its message showing the first bytes.
 */
class GoldenFramesTest {
  private static Path dir;
  private static Map<String, Object> manifest;
  private static Codecs codecs;
  private static RefResolver refs;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void loadManifest() throws IOException {
    dir = Path.of(System.getProperty("dspex.testdata", "../testdata")).resolve("frames");
    codecs = Codecs.create();
    manifest =
        (Map<String, Object>) codecs.json().decode(ByteBuffer.wrap(Files.readAllBytes(dir.resolve("manifest.json"))));
    refs = new RefResolver(dir, ProtocolSettings.DEFAULT_MAX_REF_BYTES);
  }

  @AfterAll
  static void closeCodecs() {
    codecs.close();
  }

  @TestFactory
  @SuppressWarnings("unchecked")
  Stream<DynamicNode> goldenCases() throws IOException {
    loadIfNeeded();
    List<DynamicNode> nodes = new ArrayList<>();
    for (Object o : (List<Object>) manifest.get("cases")) {
      Map<String, Object> c = (Map<String, Object>) o;
      String name = (String) c.get("name");
      List<DynamicNode> tests = new ArrayList<>();
      tests.add(DynamicTest.dynamicTest(name + ": frames decode to the manifest and re-encode to the same bytes", () -> checkFrames(c)));
      if (!"frames".equals(c.get("kind"))) {
        tests.add(DynamicTest.dynamicTest(name + ": the message reader assembles it", () -> checkAssembled(c)));
      }
      nodes.add(DynamicContainer.dynamicContainer(name, tests));
    }
    return nodes.stream();
  }

  @TestFactory
  @SuppressWarnings("unchecked")
  Stream<DynamicNode> goldenErrors() throws IOException {
    loadIfNeeded();
    List<DynamicNode> nodes = new ArrayList<>();
    for (Object o : (List<Object>) manifest.get("errors")) {
      Map<String, Object> e = (Map<String, Object>) o;
      nodes.add(
          DynamicTest.dynamicTest(
              e.get("name") + ": fails with " + e.get("error") + " at stage " + e.get("stage"),
              () -> checkError(e)));
    }
    return nodes.stream();
  }

  private static void loadIfNeeded() throws IOException {
    if (manifest == null) {
      loadManifest();
    }
  }

  // ---- cases ----

  @SuppressWarnings("unchecked")
  private static void checkFrames(Map<String, Object> c) throws IOException {
    byte[] file = Files.readAllBytes(dir.resolve((String) c.get("file")));
    FrameReader reader = new FrameReader(new ByteArrayInputStream(file), "golden", ProtocolSettings.DEFAULT_MAX_FRAME_BYTES);
    int i = 0;
    for (Object o : (List<Object>) c.get("frames")) {
      Map<String, Object> entry = (Map<String, Object>) o;
      String where = c.get("name") + ".frames[" + i++ + "]";
      String type = (String) entry.get("type");
      reader.setVersion("V1".equals(type) ? ProtocolVersion.V1 : ProtocolVersion.V2);
      Frame frame = reader.read();
      assertNotNull(frame, where + ": file ends early");
      assertEquals("V1".equals(type) ? FrameType.of(ContentFormat.JSON) : FrameType.fromName(type), frame.type(), where);
      assertMatches(entry, decode(frame), where);
      checkReencoded(entry, frame, where);
    }
    assertNull(reader.read(), c.get("name") + ": bytes after the last frame");
  }

  /** Decodes a frame's payload by its type; a REF is resolved against the golden folder. */
  private static Object decode(Frame frame) throws IOException {
    if (frame.type() == FrameType.REF) {
      RefPointer ref = RefPointer.fromMap(codecs.msgpack().decodeMap(frame.payload()), frame.payload());
      return codecs.forFormat(ref.format()).decode(refs.map(ref));
    }
    return codecOf(frame.type()).decode(frame.payload());
  }

  /** The codec of a frame type's content format; stream frames are MessagePack maps. */
  private static Codec codecOf(FrameType type) {
    ContentFormat format = type.contentFormat();
    return codecs.forFormat(format == null ? ContentFormat.MSGPACK : format);
  }

  @SuppressWarnings("unchecked")
  private static void assertMatches(Map<String, Object> entry, Object decoded, String where) {
    switch ((String) entry.get("type")) {
      case "REF":
        assertMatches((Map<String, Object>) entry.get("content"), decoded, where + ".content");
        break;
      case "ARROW":
        {
          ArrowTable t = assertInstanceOf(ArrowTable.class, decoded, where);
          List<Object> schema = new ArrayList<>();
          for (int k = 0; k < t.columnNames().size(); k++) {
            schema.add(Map.of("name", t.columnNames().get(k), "type", t.columnTypes().get(k)));
          }
          List<Object> expectedSchema = new ArrayList<>();
          for (Object f : (List<Object>) entry.get("schema")) {
            expectedSchema.add(Map.copyOf((Map<String, Object>) f));
          }
          assertEquals(expectedSchema, schema, where + ": schema");
          assertSameValue(untag(entry.get("records")), t.records(), where + ".records");
          break;
        }
      case "NUMPY":
        {
          NdArray a = assertInstanceOf(NdArray.class, decoded, where);
          assertEquals(entry.get("dtype"), a.dtype().descr(), where + ": dtype");
          assertEquals(entry.get("shape"), longs(a.shape()), where + ": shape");
          Object data = a.dtype().isFloat() ? doubles(a.toDoubleArray()) : longs(a.toLongArray());
          assertSameValue(untag(entry.get("data")), data, where + ".data");
          break;
        }
      default:
        assertSameValue(untag(entry.get("value")), decoded, where);
    }
  }

  @SuppressWarnings("unchecked")
  private static void checkReencoded(Map<String, Object> entry, Frame frame, String where) throws IOException {
    String type = (String) entry.get("type");
    if ("ARROW".equals(type)) {
      List<Object> records = (List<Object>) untag(entry.get("records"));
      ArrowTable again = codecs.arrow().decode(codecs.arrow().encode(records));
      assertSameValue(records, again.records(), where + ": re-encoded records");
      return;
    }
    ByteBuffer expected = encodeEntry(entry);
    assertEquals(toHex(expected), toHex(frame.payload()), where + ": canonical bytes");
    if ("REF".equals(type)) {
      Map<String, Object> content = (Map<String, Object>) entry.get("content");
      if (!"ARROW".equals(content.get("type"))) {
        RefPointer ref = RefPointer.fromMap(codecs.msgpack().decodeMap(frame.payload()), frame.payload());
        assertEquals(toHex(encodeEntry(content)), toHex(refs.map(ref)), where + ": canonical REF content");
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static ByteBuffer encodeEntry(Map<String, Object> entry) throws IOException {
    switch ((String) entry.get("type")) {
      case "V1":
        return codecs.json().encode(untag(entry.get("value")));
      case "NUMPY":
        return codecs.numpy().encode(ndArray(entry));
      case "REF":
        {
          Map<String, Object> v = (Map<String, Object>) entry.get("value");
          RefPointer ref =
              new RefPointer(
                  (String) v.get("path"),
                  (Long) v.get("offset"),
                  (Long) v.get("length"),
                  ContentFormat.ofWireName((String) v.get("format")));
          return codecs.msgpack().encode(ref.toMap());
        }
      default:
        return codecOf(FrameType.fromName((String) entry.get("type"))).encode(untag(entry.get("value")));
    }
  }

  @SuppressWarnings("unchecked")
  private static NdArray ndArray(Map<String, Object> entry) {
    NpyDtype dtype = NpyDtype.fromDescr((String) entry.get("dtype"));
    long[] shape = ((List<Long>) entry.get("shape")).stream().mapToLong(Long::longValue).toArray();
    List<Object> data = (List<Object>) untag(entry.get("data"));
    ByteBuffer b = ByteBuffer.allocate(data.size() * dtype.itemSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (Object x : data) {
      switch (dtype) {
        case FLOAT32:
          b.putFloat((float) (double) (Double) x);
          break;
        case FLOAT64:
          b.putDouble((Double) x);
          break;
        case INT32:
          b.putInt((int) (long) (Long) x);
          break;
        default:
          b.putLong((Long) x);
      }
    }
    return NdArray.of(dtype, shape, b.flip());
  }

  /** Reads the file with the message reader and compares what it assembles with the manifest. */
  @SuppressWarnings("unchecked")
  private static void checkAssembled(Map<String, Object> c) throws IOException {
    byte[] file = Files.readAllBytes(dir.resolve((String) c.get("file")));
    FrameReader frames = new FrameReader(new ByteArrayInputStream(file), "golden", ProtocolSettings.DEFAULT_MAX_FRAME_BYTES);
    // The golden folder is the spill directory; its files are never ours to delete.
    MessageReader reader = new MessageReader(frames, codecs, refs, false);
    List<Map<String, Object>> entries = (List<Map<String, Object>>) (List<?>) c.get("frames");
    int i = 0;
    while (i < entries.size()) {
      Map<String, Object> head = entries.get(i++);
      String where = c.get("name") + ".frames[" + (i - 1) + "]";
      Incoming in = reader.read();
      assertNotNull(in, where + ": nothing read");
      Map<String, Object> headValue = (Map<String, Object>) untag(head.get("value"));
      List<Body> bodies;
      if (in instanceof Message) {
        Message m = (Message) in;
        assertSameValue(headValue, m.header(), where + ": header");
        bodies = m.bodies();
      } else {
        StreamEvent e = (StreamEvent) in;
        assertEquals(head.get("type"), eventType(e), where + ": event type");
        assertSameValue(headValue, e.header(), where + ": stream map");
        assertEquals(headValue.get("id"), e.id(), where + ": id");
        bodies = e instanceof StreamEvent.Chunk ? ((StreamEvent.Chunk) e).bodies() : List.of();
      }
      List<Object> listed = (List<Object>) headValue.getOrDefault("body", List.of());
      assertEquals(listed.size(), bodies.size(), where + ": body count");
      for (int k = 0; k < listed.size(); k++) {
        Map<String, Object> spec = (Map<String, Object>) listed.get(k);
        Body b = bodies.get(k);
        assertEquals(spec.get("name"), b.name(), where + ": body name");
        assertEquals(spec.get("format"), b.format().wireName(), where + ": body format");
        assertMatches(entries.get(i++), b.value(), where + ".body." + b.name());
      }
    }
    assertNull(reader.read(), c.get("name") + ": more after the last message");
  }

  private static String eventType(StreamEvent e) {
    if (e instanceof StreamEvent.Start) {
      return "STREAM_START";
    }
    if (e instanceof StreamEvent.Chunk) {
      return "STREAM_CHUNK";
    }
    return e instanceof StreamEvent.End ? "STREAM_END" : "STREAM_ERROR";
  }

  // ---- errors ----

  private static void checkError(Map<String, Object> e) throws IOException {
    byte[] file = Files.readAllBytes(dir.resolve((String) e.get("file")));
    int max =
        e.get("max_frame_bytes") == null
            ? ProtocolSettings.DEFAULT_MAX_FRAME_BYTES
            : (int) (long) (Long) e.get("max_frame_bytes");
    FrameReader frames = new FrameReader(new ByteArrayInputStream(file), "golden peer", max);
    IOException error;
    switch ((String) e.get("stage")) {
      case "frame":
        error =
            assertThrows(
                ProtocolException.class,
                () -> {
                  while (frames.read() != null) {
                    // read until the error
                  }
                },
                "no error reading " + e.get("file"));
        break;
      case "payload":
        {
          Frame f = frames.read();
          assertNotNull(f, "no frame in " + e.get("file"));
          assertNull(frames.read(), "more than one frame in " + e.get("file"));
          // A codec's own error, or (for a REF map) the protocol's.
          error = assertThrows(IOException.class, () -> decode(f), "no error decoding " + e.get("file"));
          break;
        }
      case "message":
        {
          MessageReader reader = new MessageReader(frames, codecs, refs, false);
          error =
              assertThrows(
                  ProtocolException.class,
                  () -> {
                    while (reader.read() != null) {
                      // read until the error
                    }
                  },
                  "no error reading messages from " + e.get("file"));
          break;
        }
      default:
        fail("unknown stage " + e.get("stage"));
        return;
    }
    assertEquals(e.get("error"), errorName(error), "wrong error: " + error);
    Object firstBytes = e.get("first_bytes");
    if (firstBytes != null) {
      assertTrue(
          error.getMessage().contains((String) firstBytes),
          "message lacks first bytes '" + firstBytes + "': " + error.getMessage());
    }
    if (!"payload".equals(e.get("stage"))) {
      assertTrue(error.getMessage().startsWith("golden peer: "), "message does not name the peer: " + error.getMessage());
    }
  }

  // ---- helpers ----

  private static String errorName(IOException error) {
    if (error instanceof CodecException) {
      return ((CodecException) error).errorName();
    }
    return assertInstanceOf(ProtocolException.class, error, "not a codec or protocol error").errorName();
  }

  private static List<Long> longs(long[] a) {
    List<Long> out = new ArrayList<>();
    for (long x : a) {
      out.add(x);
    }
    return out;
  }

  private static List<Double> doubles(double[] a) {
    List<Double> out = new ArrayList<>();
    for (double x : a) {
      out.add(x);
    }
    return out;
  }

  private static String toHex(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    StringBuilder sb = new StringBuilder(d.remaining() * 2);
    while (d.hasRemaining()) {
      sb.append(String.format("%02x", d.get()));
    }
    return sb.toString();
  }
}
