package org.dspex.beam.connector.crosslang;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.protocol.Connection;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.ProtocolSettings;
import org.dspex.beam.connector.protocol.ProtocolVersion;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.SpillDirectory;
import org.dspex.beam.connector.protocol.UnsupportedByPeerException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A legacy V1 bridge ({@code python -m dspex_testing.legacy_bridge}) refuses {@code hello}
 * with a plain-string error: the connection stays on V1, still works for what V1 carries, and
 * refuses the rest on the client, naming the peer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LegacyBridgeTest {
  private Process bridge;
  private SpillDirectory spill;
  private Connection connection;
  private String peer;

  @BeforeAll
  void startBridge() throws IOException {
    bridge = PythonProcess.start("dspex_testing.legacy_bridge");
    spill = SpillDirectory.create();
    peer = "legacy bridge (pid " + bridge.pid() + ")";
    connection = new Connection(bridge.getInputStream(), bridge.getOutputStream(), peer, ProtocolSettings.defaults(), spill);
    connection.hello();
  }

  @AfterAll
  void stopBridge() throws Exception {
    connection.close();
    PythonProcess.stop(bridge);
    assertEquals(0, bridge.exitValue(), "the bridge exits cleanly on EOF");
    spill.close();
  }

  @Test
  void givenLegacyHelloRefusal_thenConnectionStaysOnV1() {
    assertEquals(ProtocolVersion.V1, connection.protocolVersion());
    assertEquals(Map.of(), connection.helloResult());
    assertTrue(!connection.canSpill());
  }

  @Test
  void givenV1_whenPing_thenAnsweredInline() throws IOException {
    Message pong = connection.call(Request.of("ping"));
    assertTrue(pong.success(), pong.toString());
    assertEquals(Map.of("status", "ok"), pong.result());
  }

  @Test
  void givenV1_whenUnknownCommand_thenPlainStringErrorNormalised() throws IOException {
    Message answer = connection.call(Request.of("predict").withArg("inputs", List.of(Map.of("q", "x"))));
    assertEquals("RemoteError", answer.error().type());
    assertEquals("Unknown command: predict", answer.error().message());
  }

  @Test
  void givenV1_whenBodyNeedsNumpy_thenRefusedOnClientNamingPeer() {
    UnsupportedByPeerException e =
        assertThrows(
            UnsupportedByPeerException.class,
            () -> connection.send(Request.of("embed").withBody("vectors", new float[][] {{1f, 2f}})));
    assertTrue(e.getMessage().contains(peer) && e.getMessage().contains("v1"), e.getMessage());
  }

  @Test
  void givenV1_whenStreamRequested_thenRefusedOnClientNamingPeer() {
    UnsupportedByPeerException e =
        assertThrows(
            UnsupportedByPeerException.class,
            () -> connection.send(Request.of("echo_stream").withStream(true)));
    assertTrue(e.getMessage().contains(peer), e.getMessage());
  }
}
