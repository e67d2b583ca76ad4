package org.dspex.beam.connector.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.Codecs;
import org.junit.jupiter.api.Test;

/** Negotiation against canned answers; the real workers are in the cross-language tests. */
class ConnectionTest {
  private static byte[] v1(String... jsons) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String json : jsons) {
      byte[] b = json.getBytes(StandardCharsets.UTF_8);
      out.writeBytes(ByteBuffer.allocate(4).putInt(b.length).array());
      out.writeBytes(b);
    }
    return out.toByteArray();
  }

  @Test
  void givenHelloAnswerWithoutProtocol_thenV1AndAnswersWithoutIdMatchedInOrder() throws IOException {
    byte[] answers =
        v1(
            "{\"success\":false,\"error\":\"Unknown command: hello\"}",
            "{\"success\":true,\"result\":{\"status\":\"ok\"}}");
    ByteArrayOutputStream sent = new ByteArrayOutputStream();
    try (Connection c = new Connection(new ByteArrayInputStream(answers), sent, "bridge", ProtocolSettings.defaults(), null)) {
      assertEquals(Map.of(), c.hello());
      assertEquals(ProtocolVersion.V1, c.protocolVersion());
      Message pong = c.call(Request.of("ping"));
      assertEquals(1, pong.id());
      assertEquals(Map.of("status", "ok"), pong.result());
    }
    FrameReader frames = new FrameReader(new ByteArrayInputStream(sent.toByteArray()), "client", 1 << 20);
    frames.setVersion(ProtocolVersion.V1);
    try (Codecs codecs = Codecs.create()) {
      Map<String, Object> hello = codecs.json().decodeMap(frames.read().payload());
      assertEquals(List.of("id", "command", "args", "timestamp"), List.copyOf(hello.keySet()));
      Map<?, ?> args = (Map<?, ?>) hello.get("args");
      assertEquals(List.of("v2", "v1"), args.get("protocols"));
      assertEquals(Connection.CLIENT_VERSION, args.get("client_version"));
      assertEquals(268_435_456L, args.get("max_frame_bytes"));
      assertEquals("ping", codecs.json().decodeMap(frames.read().payload()).get("command"));
    }
  }

  @Test
  void givenHelloAnsweredV1_thenStaysOnV1() throws IOException {
    byte[] answers = v1("{\"id\":0,\"success\":true,\"result\":{\"protocol\":\"v1\"}}");
    try (Connection c = new Connection(new ByteArrayInputStream(answers), new ByteArrayOutputStream(), "w", ProtocolSettings.defaults(), null)) {
      assertEquals("v1", c.hello().get("protocol"));
      assertEquals(ProtocolVersion.V1, c.protocolVersion());
    }
  }

  @Test
  void givenRequests_thenEachIdIsToldBeforeItsFirstByteIsWritten() throws IOException {
    byte[] answers = v1("{\"id\":0,\"success\":true,\"result\":{\"protocol\":\"v1\"}}");
    ByteArrayOutputStream sent = new ByteArrayOutputStream();
    try (Connection c = new Connection(new ByteArrayInputStream(answers), sent, "w", ProtocolSettings.defaults(), null)) {
      c.hello();
      List<String> seen = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        int before = sent.size();
        long id = c.send(Request.of("ping"), assigned -> seen.add(assigned + "@" + (sent.size() - before))).id();
        assertTrue(sent.size() > before);
        assertEquals(seen.get(i), id + "@0");
      }
      assertEquals(List.of("1@0", "2@0", "3@0"), seen);
    }
  }

  @Test
  void givenNoHello_thenSendRefused() throws IOException {
    try (Connection c = new Connection(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(), "w", ProtocolSettings.defaults(), null)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.send(Request.of("ping")));
      assertTrue(e.getMessage().contains("hello()"), e.getMessage());
    }
  }

  @Test
  void givenGarbageInsteadOfHelloAnswer_thenFrameTooLongNamingPeer() throws IOException {
    byte[] banner = "Welcome to the worker!\n".getBytes(StandardCharsets.US_ASCII);
    try (Connection c = new Connection(new ByteArrayInputStream(banner), new ByteArrayOutputStream(), "worker 2 (pid 99)", ProtocolSettings.defaults(), null)) {
      FrameTooLongException e = assertThrows(FrameTooLongException.class, c::hello);
      assertTrue(e.getMessage().startsWith("worker 2 (pid 99): ") && e.getMessage().contains("|Welcome to the worker!.|"), e.getMessage());
    }
  }
}
