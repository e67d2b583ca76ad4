package org.dspex.beam.connector.crosslang;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.dspex.beam.connector.codec.ArrowTable;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.protocol.Body;
import org.dspex.beam.connector.protocol.Connection;
import org.dspex.beam.connector.protocol.ElementFailure;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.protocol.FormatChooser.Placement;
import org.dspex.beam.connector.protocol.Incoming;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.ProtocolSettings;
import org.dspex.beam.connector.protocol.ProtocolVersion;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.SentMessage;
import org.dspex.beam.connector.protocol.SpillDirectory;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Java to Python to Java through the real echo worker ({@code python -m dspex_testing.echo}): every
 * kind of message the Java side writes is decoded by the Python side, re-encoded there in the same
 * format, and decoded here to the same value. One worker serves the class (it starts in a fraction
 * of a second, but the suite must stay fast on two cores); {@code shutdown} comes last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CrossLanguageRoundTripTest {
  private Process worker;
  private SpillDirectory spill;
  private Connection connection;

  @BeforeAll
  void startWorker() throws IOException {
    worker = PythonProcess.start("dspex_testing.echo");
    spill = SpillDirectory.create();
    connection =
        new Connection(
            worker.getInputStream(), worker.getOutputStream(), PythonProcess.name(worker), ProtocolSettings.defaults(), spill);
    connection.hello();
  }

  @AfterAll
  void stopWorker() throws Exception {
    connection.close();
    PythonProcess.stop(worker);
    spill.close();
  }

  @Test
  @Order(1)
  void givenV2Worker_whenHello_thenV2NegotiatedWithRefCapability() {
    assertEquals(ProtocolVersion.V2, connection.protocolVersion());
    Map<String, Object> result = connection.helloResult();
    assertEquals("v2", result.get("protocol"));
    assertEquals(worker.pid(), result.get("pid"));
    Map<?, ?> caps = (Map<?, ?>) result.get("capabilities");
    assertTrue(((List<?>) caps.get("formats")).contains("ref"), "spill dir accepted: " + caps);
    assertTrue(connection.canSpill());
  }

  @Test
  @Order(2)
  void givenPing_thenOk() throws IOException {
    Message pong = connection.call(Request.of("ping"));
    assertTrue(pong.success(), pong.toString());
    assertEquals(Map.of("ok", true), pong.result());
  }

  @Test
  @Order(3)
  void givenInlineJsonArgsAndBody_whenEcho_thenSameValuesInline() throws IOException {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("float", 0.1);
    nested.put("big", Long.MAX_VALUE);
    nested.put("none", null);
    List<Object> records = List.of(Map.of("q", "What is DSPy?"), Map.of("q", "2+2?"));
    Request request =
        Request.of("echo").withArg("text", "héllo / \u0001").withArg("nested", nested).withBody("inputs", records);
    SentMessage sent = connection.send(request);
    assertEquals(ContentFormat.JSON, sent.headerFormat());
    assertEquals(Placement.INLINE, sent.bodies().get(0).placement());
    Message echoed = answerTo(sent);
    assertTrue(echoed.success(), echoed.toString());
    assertEquals("héllo / \u0001", echoed.resultMap().get("text"));
    assertEquals(nested, echoed.resultMap().get("nested"));
    assertEquals(records, echoed.body("inputs"));
    assertEquals(ContentFormat.JSON, echoed.bodyFormat("inputs"));
  }

  @Test
  @Order(4)
  void givenHundredRecords_whenEchoByAuto_thenMsgpackBothWays() throws IOException {
    List<Map<String, Object>> records = records(100, false);
    SentMessage sent = connection.send(Request.of("echo").withBody("inputs", records));
    assertEquals(ContentFormat.MSGPACK, sent.bodies().get(0).format());
    Message echoed = answerTo(sent);
    assertEquals(ContentFormat.MSGPACK, echoed.bodyFormat("inputs"));
    assertEquals(records, echoed.body("inputs"));
  }

  @Test
  @Order(5)
  void givenArrowMinRecords_whenEchoByAuto_thenArrowBothWays() throws IOException {
    List<Map<String, Object>> records =
        records(ProtocolSettings.DEFAULT_ARROW_MIN_RECORDS, false);
    SentMessage sent = connection.send(Request.of("echo").withBody("inputs", records));
    assertEquals(ContentFormat.ARROW, sent.bodies().get(0).format());
    Message echoed = answerTo(sent);
    assertEquals(ContentFormat.ARROW, echoed.bodyFormat("inputs"));
    ArrowTable table = assertInstanceOf(ArrowTable.class, echoed.body("inputs"));
    assertEquals(List.of("id", "text", "score", "ok", "tags"), table.columnNames());
    assertEquals(List.of("int64", "utf8", "float64", "bool", "list<utf8>"), table.columnTypes());
    assertEquals(records, table.records());
  }

  @Test
  @Order(6)
  void givenFloat32Matrix_whenEcho_thenNumpyBothWaysWithSameFloats() throws IOException {
    float[][] matrix = new float[64][384];
    for (int r = 0; r < matrix.length; r++) {
      for (int c = 0; c < matrix[r].length; c++) {
        matrix[r][c] = (float) Math.sin(r * 384 + c) * 1e3f;
      }
    }
    matrix[0][0] = Float.NaN;
    matrix[0][1] = Float.NEGATIVE_INFINITY;
    SentMessage sent = connection.send(Request.of("echo").withBody("vectors", matrix));
    assertEquals(ContentFormat.NUMPY, sent.bodies().get(0).format());
    Message echoed = answerTo(sent);
    NdArray vectors = assertInstanceOf(NdArray.class, echoed.body("vectors"));
    assertArrayEquals(new long[] {64, 384}, vectors.shape());
    float[][] back = vectors.toFloatMatrix();
    for (int r = 0; r < matrix.length; r++) {
      assertArrayEquals(matrix[r], back[r], "row " + r);
    }
  }

  @Test
  @Order(7)
  void givenForcedRef_whenEcho_thenWorkerAnswersWithItsOwnRefAndEveryFileIsDeleted() throws IOException {
    List<Map<String, Object>> records = records(50, false);
    SentMessage sent = connection.send(Request.of("echo").withBody("trainset", records, FormatChoice.REF));
    assertEquals(Placement.REF, sent.bodies().get(0).placement());
    assertEquals(ContentFormat.MSGPACK, sent.bodies().get(0).format());
    String ours = sent.refFiles().get(0);
    assertTrue(Files.exists(spill.path().resolve(ours)), "our REF file while the request is open");
    Message echoed = answerTo(sent);
    Body body = echoed.frameBody("trainset");
    assertNotNull(body, echoed.toString());
    assertTrue(body.viaRef(), "the worker answers a REF with a REF");
    assertTrue(body.ref().path().startsWith("w"), body.ref().path());
    assertEquals(records, body.value());
    assertFalse(Files.exists(spill.path().resolve(ours)), "our file is deleted with the response");
    assertFalse(Files.exists(spill.path().resolve(body.ref().path())), "the received file is deleted once decoded");
    try (Stream<Path> left = Files.list(spill.path())) {
      assertEquals(List.of(), left.toList(), "spill directory is empty again");
    }
  }

  @Test
  @Order(8)
  void givenUnicodeNanAndBytes_whenEcho_thenMsgpackHeaderAndBodyKeepThem() throws IOException {
    List<Map<String, Object>> records = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("text", "漢字 😀 é \u2028 \"q\" \\ " + i);
      r.put("score", i == 2 ? Double.NaN : i == 3 ? Double.NEGATIVE_INFINITY : i / 3.0);
      r.put("raw", new byte[] {0, (byte) 0xff, (byte) i});
      records.add(r);
    }
    SentMessage sent =
        connection.send(Request.of("echo").withArg("threshold", Double.POSITIVE_INFINITY).withBody("inputs", records));
    assertEquals(ContentFormat.MSGPACK, sent.headerFormat(), "a header holding infinity goes as MessagePack");
    assertEquals(ContentFormat.MSGPACK, sent.bodies().get(0).format(), "NaN and bytes cannot go inline as JSON");
    Message echoed = answerTo(sent);
    assertEquals(Double.POSITIVE_INFINITY, echoed.resultMap().get("threshold"));
    List<?> back = (List<?>) echoed.body("inputs");
    assertEquals(records.size(), back.size());
    for (int i = 0; i < records.size(); i++) {
      Map<?, ?> e = records.get(i);
      Map<?, ?> a = (Map<?, ?>) back.get(i);
      assertEquals(e.get("text"), a.get("text"));
      assertEquals(Double.doubleToLongBits((Double) e.get("score")), Double.doubleToLongBits((Double) a.get("score")));
      assertArrayEquals((byte[]) e.get("raw"), (byte[]) a.get("raw"));
    }
  }

  @Test
  @Order(9)
  void givenRecordsAskingToFail_whenEchoStream_thenEveryIndexReportedExactlyOnce() throws IOException {
    List<Map<String, Object>> records = records(20, true);
    List<Incoming> events =
        connection.callStream(Request.of("echo_stream").withArg("chunk_size", 3).withBody("inputs", records, FormatChoice.forced(ContentFormat.MSGPACK)));
    StreamEvent.Start start = assertInstanceOf(StreamEvent.Start.class, events.get(0));
    assertEquals(20, start.n());
    Set<Long> seen = new HashSet<>();
    List<Long> failedIndexes = new ArrayList<>();
    int chunks = 0;
    for (Incoming e : events.subList(1, events.size() - 1)) {
      StreamEvent.Chunk chunk = assertInstanceOf(StreamEvent.Chunk.class, e);
      assertEquals(
          Math.min(3, 20 - 3 * chunks), chunk.indexes().size() + chunk.failed().size(), "chunk " + chunks + " size");
      chunks++;
      List<?> outputs = (List<?>) chunk.body("outputs");
      assertEquals(chunk.indexes().size(), outputs.size());
      for (int k = 0; k < chunk.indexes().size(); k++) {
        long index = chunk.indexes().get(k);
        assertTrue(seen.add(index), "index " + index + " reported twice");
        assertEquals(records.get((int) index), outputs.get(k));
      }
      for (ElementFailure f : chunk.failed()) {
        assertTrue(seen.add(f.index()), "index " + f.index() + " reported twice");
        assertEquals("ValueError", f.type());
        assertEquals("record " + f.index() + " asked to fail", f.message());
        failedIndexes.add(f.index());
      }
    }
    assertEquals(7, chunks);
    assertEquals(20, seen.size(), "every index once");
    assertEquals(List.of(0L, 7L, 14L), failedIndexes);
    StreamEvent.End end = assertInstanceOf(StreamEvent.End.class, events.get(events.size() - 1));
    assertEquals(17, end.ok());
    assertEquals(3, end.failed());
  }

  @Test
  @Order(9)
  void givenArrowInputsAndHandlerBreaking_whenEchoStream_thenArrowChunksThenStreamError() throws IOException {
    List<Map<String, Object>> records = records(1000, false);
    List<Incoming> events =
        connection.callStream(
            Request.of("echo_stream")
                .withArg("chunk_size", 400)
                .withArg("break_after_chunks", 2)
                .withBody("inputs", records, FormatChoice.forced(ContentFormat.ARROW)));
    assertEquals(4, events.size(), events.toString());
    StreamEvent.Chunk first = assertInstanceOf(StreamEvent.Chunk.class, events.get(1));
    ArrowTable outputs = assertInstanceOf(ArrowTable.class, first.body("outputs"));
    assertEquals(records.subList(0, 400), outputs.records());
    StreamEvent.Error error = assertInstanceOf(StreamEvent.Error.class, events.get(3));
    assertEquals("RuntimeError", error.error().type());
    assertTrue(error.error().message().contains("break after 2 chunks"), error.error().message());
  }

  @Test
  @Order(10)
  void givenUnknownCommand_thenUnknownCommandError() throws IOException {
    Message answer = connection.call(Request.of("no_such_command"));
    assertFalse(answer.success());
    assertEquals("UnknownCommand", answer.error().type());
  }

  @Test
  @Order(100)
  void givenShutdown_thenWorkerAnswersAndExitsZero() throws Exception {
    Message answer = connection.call(Request.of("shutdown"));
    assertTrue(answer.success(), answer.toString());
    assertTrue(worker.waitFor(10, TimeUnit.SECONDS), "worker exits after shutdown");
    assertEquals(0, worker.exitValue());
  }

  private Message answerTo(SentMessage sent) throws IOException {
    Incoming next = connection.read();
    Message m = assertInstanceOf(Message.class, next);
    assertEquals(sent.id(), m.id());
    assertTrue(m.success(), m.toString());
    return m;
  }

  /** Records of every Arrow type; every 7th asks to fail when {@code withFailures}. */
  private static List<Map<String, Object>> records(int n, boolean withFailures) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("id", (long) i);
      r.put("text", i % 5 == 0 ? null : "record " + i + " é");
      r.put("score", i * 0.25);
      r.put("ok", i % 2 == 0);
      r.put("tags", i % 3 == 0 ? List.of() : List.of("a", "t" + i));
      if (withFailures && i % 7 == 0) {
        r.put("fail", true);
      }
      out.add(r);
    }
    return out;
  }
}
