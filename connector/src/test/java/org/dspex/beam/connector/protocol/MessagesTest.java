package org.dspex.beam.connector.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ArrowTable;
import org.dspex.beam.connector.codec.Codecs;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.CorruptedPayloadException;
import org.dspex.beam.connector.codec.EncodingException;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.protocol.FormatChooser.Placement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MessagesTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T15:09:42.123Z"), ZoneOffset.UTC);
  private static final Path GOLDEN = Path.of(System.getProperty("dspex.testdata", "../testdata"), "frames");

  @TempDir Path temp;
  private Codecs codecs;
  private SpillDirectory spill;
  private ByteArrayOutputStream out;

  @BeforeEach
  void setUp() throws IOException {
    codecs = Codecs.create();
    spill = SpillDirectory.create(temp);
    out = new ByteArrayOutputStream();
  }

  @AfterEach
  void tearDown() throws IOException {
    codecs.close();
    spill.close();
  }

  private MessageWriter writer(ProtocolSettings settings, ProtocolVersion version) {
    FrameWriter frames = new FrameWriter(out, "worker 1", settings.maxFrameBytes());
    frames.setVersion(version);
    return new MessageWriter(frames, codecs, settings, spill, "worker 1", CLOCK);
  }

  private MessageWriter writer() {
    return writer(ProtocolSettings.defaults(), ProtocolVersion.V2);
  }

  private MessageReader reader(byte[] bytes) throws IOException {
    FrameReader frames = new FrameReader(new ByteArrayInputStream(bytes), "worker 1", ProtocolSettings.DEFAULT_MAX_FRAME_BYTES);
    return new MessageReader(frames, codecs, spill.resolver(ProtocolSettings.DEFAULT_MAX_REF_BYTES), false);
  }

  private static Map<String, Object> record(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static List<Map<String, Object>> twoRecords() {
    return List.of(record("question", "What is DSPy?", "context", null, "k", 3L), record("question", "2+2?", "context", "math", "k", 1L));
  }

  @Test
  void givenRequestWithSmallRecords_thenBytesOfTheGoldenInlineRequest() throws IOException {
    Request request = Request.of("predict").withArg("handle", "h1").withArg("n", 2).withBody("inputs", twoRecords());
    SentMessage sent = writer().writeRequest(1, request);
    assertEquals(Placement.INLINE, sent.bodies().get(0).placement());
    assertArrayEquals(Files.readAllBytes(GOLDEN.resolve("json_request_inline_records.bin")), out.toByteArray());
  }

  @Test
  void givenArgsWithNanInfinityAndBytes_thenMsgpackHeaderAsTheGolden() throws IOException {
    Map<String, Object> args = record("handler", "score", "threshold", Double.NaN, "upper", Double.POSITIVE_INFINITY,
        "lower", Double.NEGATIVE_INFINITY, "salt", new byte[] {0, (byte) 0xff, 's', 'a', 'l', 't'});
    SentMessage sent = writer().writeRequest(2, Request.of("run").withArgs(args));
    assertEquals(ContentFormat.MSGPACK, sent.headerFormat());
    assertArrayEquals(Files.readAllBytes(GOLDEN.resolve("msgpack_header_nonfinite_bytes.bin")), out.toByteArray());
  }

  @Test
  void givenErrorResponse_thenBytesOfTheGolden() throws IOException {
    String tb = "Traceback (most recent call last):\n  File \"/opt/dspex/handlers.py\", line 42, in predict\n"
        + "    raise ValueError(\"signature has no output field\")\nValueError: signature has no output field\n";
    writer().writeErrorResponse(4, new RemoteError("ValueError", "signature has no output field", tb));
    assertArrayEquals(Files.readAllBytes(GOLDEN.resolve("error_response_traceback.bin")), out.toByteArray());
  }

  @Test
  void givenV1Hello_thenBytesOfTheGolden() throws IOException {
    Map<String, Object> args = record("protocols", List.of("v2", "v1"), "client_version", "0.1.0", "spill_dir", "/dev/shm/dspex-1a2b");
    writer(ProtocolSettings.defaults(), ProtocolVersion.V1).writeRequest(0, Request.of("hello").withArgs(args));
    assertArrayEquals(Files.readAllBytes(GOLDEN.resolve("v1_hello_request.bin")), out.toByteArray());
  }

  @Test
  void givenBodiesOfEveryFormat_thenHeaderListsThemAndReaderAssemblesThem() throws IOException {
    List<Map<String, Object>> many = new ArrayList<>();
    for (int i = 0; i < ProtocolSettings.DEFAULT_ARROW_MIN_RECORDS; i++) {
      many.add(record("i", (long) i, "s", "x" + i));
    }
    Request request =
        Request.of("predict")
            .withArg("handle", "h1")
            .withBody("inputs", twoRecords(), FormatChoice.forced(ContentFormat.MSGPACK))
            .withBody("examples", many)
            .withBody("vectors", new float[][] {{0.5f, -1.25f}, {3f, 0f}})
            .withBody("small", List.of(1, 2));
    SentMessage sent = writer().writeRequest(3, request);
    assertEquals(
        List.of(Placement.FRAME, Placement.FRAME, Placement.FRAME, Placement.INLINE),
        sent.bodies().stream().map(SentMessage.SentBody::placement).toList());
    Message m = assertInstanceOf(Message.class, reader(out.toByteArray()).read());
    assertEquals(List.of("id", "command", "args", "timestamp", "body"), List.copyOf(m.header().keySet()));
    assertEquals("2026-11-26T15:09:42.123Z", m.header().get("timestamp"));
    assertEquals(3, m.id());
    assertEquals(
        List.of(
            Map.of("name", "inputs", "format", "msgpack"),
            Map.of("name", "examples", "format", "arrow"),
            Map.of("name", "vectors", "format", "numpy")),
        m.header().get("body"));
    assertEquals(twoRecords(), m.body("inputs"));
    assertEquals(many, ((ArrowTable) m.body("examples")).records());
    assertArrayEquals(new float[] {3f, 0f}, ((NdArray) m.body("vectors")).toFloatMatrix()[1]);
    assertEquals(List.of(1L, 2L), m.body("small"), "inline bodies are found by name too");
    assertEquals(ContentFormat.JSON, m.bodyFormat("small"));
  }

  @Test
  void givenBodyOverMaxFrameBytesUnderAuto_thenSpilledAsRefAndResolvedByTheReader() throws IOException {
    ProtocolSettings settings = ProtocolSettings.defaults().withMaxFrameBytes(1000);
    List<Map<String, Object>> records = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      records.add(record("q", "question number " + i));
    }
    SentMessage sent = writer(settings, ProtocolVersion.V2).writeRequest(5, Request.of("run").withBody("trainset", records));
    assertEquals(Placement.REF, sent.bodies().get(0).placement());
    assertEquals(ContentFormat.MSGPACK, sent.bodies().get(0).format());
    String file = sent.refFiles().get(0);
    assertTrue(Files.size(spill.path().resolve(file)) > 1000);
    Message m = (Message) reader(out.toByteArray()).read();
    Body body = m.frameBody("trainset");
    assertEquals(new RefPointer(file, 0, sent.bodies().get(0).encodedBytes(), ContentFormat.MSGPACK), body.ref());
    assertEquals(records, body.value());
    assertTrue(Files.exists(spill.path().resolve(file)), "a reader told not to delete leaves the file");
  }

  @Test
  void givenForcedJsonWithNan_thenEncodingErrorNamingPathAndNothingWritten() {
    PayloadException e =
        assertThrows(PayloadException.class, () -> writer().writeRequest(1, Request.of("predict").withBody("inputs", List.of(record("s", 1.0), record("s", Double.NaN)), FormatChoice.forced(ContentFormat.JSON))));
    assertInstanceOf(EncodingException.class, e.getCause());
    assertTrue(e.getMessage().contains("args.inputs[1].s"), e.getMessage());
    assertEquals(0, out.size());
  }

  @Test
  void givenForcedInlineBodyOverMax_thenFrameTooLongNamingSettingAndNoSpillFileLeft() throws IOException {
    ProtocolSettings settings = ProtocolSettings.defaults().withMaxFrameBytes(100);
    MessageWriter w = writer(settings, ProtocolVersion.V2);
    FrameTooLongException e =
        assertThrows(FrameTooLongException.class, () -> w.writeRequest(1, Request.of("x").withBody("a", new byte[500], FormatChoice.forced(ContentFormat.MSGPACK))));
    assertTrue(e.getMessage().contains("max_frame_bytes 100"), e.getMessage());
    assertEquals(0, out.size());
    try (var files = Files.list(spill.path())) {
      assertEquals(0, files.count());
    }
  }

  @Test
  void givenV1Peer_thenBodiesInlineOrRefusedNamingThePeer() throws IOException {
    MessageWriter w = writer(ProtocolSettings.defaults(), ProtocolVersion.V1);
    w.writeRequest(1, Request.of("predict").withBody("inputs", twoRecords()));
    Message m = (Message) readV1(out.toByteArray());
    assertEquals(twoRecords(), m.args().get("inputs"));
    for (Request bad :
        List.of(
            Request.of("embed").withBody("vectors", new float[][] {{1f}}),
            Request.of("predict").withBody("inputs", twoRecords(), FormatChoice.forced(ContentFormat.MSGPACK)),
            Request.of("predict").withBody("inputs", List.of(record("x", Double.NaN))),
            Request.of("predict").withArg("t", Double.NaN),
            Request.of("predict").withStream(true))) {
      UnsupportedByPeerException e = assertThrows(UnsupportedByPeerException.class, () -> w.writeRequest(2, bad), bad.toString());
      assertTrue(e.getMessage().startsWith("worker 1 speaks protocol v1"), e.getMessage());
    }
  }

  private Incoming readV1(byte[] bytes) throws IOException {
    FrameReader frames = new FrameReader(new ByteArrayInputStream(bytes), "worker 1", 1000);
    frames.setVersion(ProtocolVersion.V1);
    return new MessageReader(frames, codecs, null, false).read();
  }

  @Test
  void givenLegacyStringError_thenNormalisedToRemoteError() throws IOException {
    byte[] json = "{\"id\":0,\"success\":false,\"error\":\"Unknown command: hello\"}".getBytes(StandardCharsets.UTF_8);
    ByteBuffer frame = ByteBuffer.allocate(4 + json.length).putInt(json.length).put(json);
    Message m = (Message) readV1(frame.array());
    assertEquals(new RemoteError("RemoteError", "Unknown command: hello", null), m.error());
    assertEquals(Map.of("type", "RemoteError", "message", "Unknown command: hello"), m.header().get("error"));
  }

  private byte[] frames(Object[]... typeAndPayload) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    FrameWriter w = new FrameWriter(bytes, "test", 1 << 20);
    for (Object[] f : typeAndPayload) {
      w.write((FrameType) f[0], (ByteBuffer) f[1]);
    }
    w.flush();
    return bytes.toByteArray();
  }

  private ByteBuffer json(Object v) throws EncodingException {
    return codecs.json().encode(v);
  }

  private ByteBuffer msgpack(Object v) throws EncodingException {
    return codecs.msgpack().encode(v);
  }

  @Test
  void givenStreamFrameAmongBodies_thenUnexpectedFrame() throws IOException {
    byte[] bytes =
        frames(
            new Object[] {FrameType.of(ContentFormat.JSON), json(record("id", 1, "success", true, "body", List.of(record("name", "a", "format", "msgpack"))))},
            new Object[] {FrameType.STREAM_START, msgpack(record("id", 2, "n", 1))});
    UnexpectedFrameException e = assertThrows(UnexpectedFrameException.class, () -> reader(bytes).read());
    assertTrue(e.getMessage().startsWith("worker 1: a STREAM_START frame where body 'a' (msgpack)"), e.getMessage());
  }

  @Test
  void givenBodyFrameWhereHeaderExpected_thenUnexpectedFrame() throws IOException {
    byte[] bytes = frames(new Object[] {FrameType.of(ContentFormat.NUMPY), codecs.numpy().encode(new float[] {1f})});
    assertThrows(UnexpectedFrameException.class, () -> reader(bytes).read());
  }

  @Test
  void givenFewerBodyFramesThanListed_thenUnexpectedFrame() throws IOException {
    byte[] bytes =
        frames(
            new Object[] {FrameType.of(ContentFormat.JSON), json(record("id", 9, "body", List.of(record("name", "a", "format", "msgpack"), record("name", "b", "format", "msgpack"))))},
            new Object[] {FrameType.of(ContentFormat.MSGPACK), msgpack(1)});
    UnexpectedFrameException e = assertThrows(UnexpectedFrameException.class, () -> reader(bytes).read());
    assertTrue(e.getMessage().contains("after 1 of 2 body frames"), e.getMessage());
  }

  @Test
  void givenCorruptedBody_thenErrorConfinedToItsRequestAndNextMessageReadable() throws IOException {
    byte[] bytes =
        frames(
            new Object[] {FrameType.of(ContentFormat.JSON), json(record("id", 7, "success", true, "body", List.of(record("name", "a", "format", "msgpack"))))},
            new Object[] {FrameType.of(ContentFormat.MSGPACK), ByteBuffer.wrap(new byte[] {(byte) 0xc1})},
            new Object[] {FrameType.of(ContentFormat.JSON), json(record("id", 8, "success", true, "result", null))});
    MessageReader r = reader(bytes);
    PayloadException e = assertThrows(PayloadException.class, r::read);
    assertInstanceOf(CorruptedPayloadException.class, e.getCause());
    assertEquals(7, e.requestId().getAsLong());
    assertTrue(e.getMessage().startsWith("worker 1: "), e.getMessage());
    assertEquals(8, r.read().id());
    assertFalse(e.isChunkOfOpenStream());
    assertNull(r.read());
  }

  @Test
  void givenChunkWithCorruptedBody_thenOnlyThatChunkLostAndTheStreamReadOnToItsEnd() throws IOException {
    Map<String, Object> outputs = record("name", "outputs", "format", "msgpack");
    byte[] bytes =
        frames(
            new Object[] {FrameType.STREAM_START, msgpack(record("id", 4, "n", 3))},
            new Object[] {FrameType.STREAM_CHUNK, msgpack(record("id", 4, "indexes", List.of(0), "body", List.of(outputs)))},
            new Object[] {FrameType.of(ContentFormat.MSGPACK), ByteBuffer.wrap(new byte[] {(byte) 0xc1})},
            new Object[] {FrameType.STREAM_CHUNK, msgpack(record("id", 4, "indexes", List.of(1), "body", List.of(outputs)))},
            new Object[] {FrameType.of(ContentFormat.MSGPACK), msgpack(List.of(record("answer", "a1")))},
            new Object[] {FrameType.STREAM_END, msgpack(record("id", 4, "ok", 2, "failed", 0, "usage", record("calls", 2)))});
    MessageReader r = reader(bytes);
    assertInstanceOf(StreamEvent.Start.class, r.read());
    PayloadException e = assertThrows(PayloadException.class, r::read);
    assertInstanceOf(CorruptedPayloadException.class, e.getCause());
    assertEquals(4, e.requestId().getAsLong());
    assertTrue(e.isChunkOfOpenStream());
    assertEquals(List.of(1L), assertInstanceOf(StreamEvent.Chunk.class, r.read()).indexes());
    assertInstanceOf(StreamEvent.End.class, r.read());
    assertNull(r.read());
  }

  @Test
  void givenStreamFrames_thenEventsWithTheirBodies() throws IOException {
    byte[] bytes =
        frames(
            new Object[] {FrameType.STREAM_START, msgpack(record("id", 4, "n", 2))},
            new Object[] {FrameType.STREAM_CHUNK, msgpack(record("id", 4, "indexes", List.of(1), "failed", List.of(record("index", 0, "type", "ValueError", "message", "no")), "usage", record("calls", 1), "body", List.of(record("name", "outputs", "format", "json"))))},
            new Object[] {FrameType.of(ContentFormat.JSON), json(List.of(record("answer", "a1")))},
            new Object[] {FrameType.STREAM_END, msgpack(record("id", 4, "ok", 1, "failed", 1, "usage", record("calls", 1)))});
    MessageReader r = reader(bytes);
    assertEquals(2, assertInstanceOf(StreamEvent.Start.class, r.read()).n());
    StreamEvent.Chunk chunk = assertInstanceOf(StreamEvent.Chunk.class, r.read());
    assertEquals(List.of(1L), chunk.indexes());
    assertEquals(List.of(new ElementFailure(0, "ValueError", "no")), chunk.failed());
    assertEquals(List.of(Map.of("answer", "a1")), chunk.body("outputs"));
    StreamEvent.End end = assertInstanceOf(StreamEvent.End.class, r.read());
    assertTrue(end.isLast());
    assertEquals(1, end.ok());
    assertEquals(1, end.failed());
    assertNull(r.read());
  }

  @Test
  void givenBodyNameCollidingWithArg_thenRefusedAtOnce() {
    assertThrows(IllegalArgumentException.class, () -> Request.of("x").withArg("a", 1).withBody("a", 2));
    assertThrows(IllegalArgumentException.class, () -> Request.of("x").withBody("a", 2).withArg("a", 1));
    assertThrows(IllegalArgumentException.class, () -> Request.of("x").withBody("a", 2).withBody("a", 3));
  }
}
