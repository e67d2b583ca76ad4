package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.UnsupportedByPeerException;
import org.junit.jupiter.api.Test;

/**
 * A V1 peer as a pool's worker: {@code v1_peer.py} (test resources), a standalone script written
 * from docs/protocol.md that refuses {@code hello} as the legacy DSPex bridge does, started through
 * {@link WorkerConfig#withCommand}.
 */
class V1PeerPoolTest {
  private static final long T = 20;

  /** The peer's script, from the test classpath. */
  static String peerScript() {
    try {
      return new File(V1PeerPoolTest.class.getResource("/v1_peer.py").toURI()).getAbsolutePath();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Workers that run the V1 peer. */
  static WorkerConfig v1Config() {
    return WorkerTestSupport.config().withCommand(List.of(WorkerTestSupport.python(), peerScript()));
  }

  @Test
  void givenV1PeerAllowed_thenPingedServedAndRestartedAfterItIsKilled() throws Exception {
    WorkerConfig config = v1Config().withLegacyV1Peers(true).withPingInterval(Duration.ofMillis(100));
    try (WorkerPool pool = WorkerPool.create(config)) {
      long pid = pool.pids().get(0);
      // A plain request, answered in V1.
      Message m = pool.call(Request.of("echo").withArg("x", 1).withArg("text", "h\u00e9llo"));
      assertEquals(Map.of("x", 1L, "text", "h\u00e9llo"), m.resultMap());
      // Health pings it understands: the idle peer is pinged and kept.
      PythonWorkerTest.waitFor(() -> pool.stats().healthPings() >= 2);
      assertEquals(List.of(pid), pool.pids());
      assertEquals(0, pool.stats().workerCrashes());
      // Killed, it is replaced like any worker.
      assertTrue(ProcessHandle.of(pid).orElseThrow().destroyForcibly());
      PythonWorkerTest.waitFor(() -> !pool.pids().isEmpty() && pool.pids().get(0) != pid);
      long restarted = ((Number) pool.call(Request.of("pid")).resultMap().get("pid")).longValue();
      assertNotEquals(pid, restarted);
      assertEquals(pool.pids().get(0), restarted);
      assertEquals(1, pool.stats().workerRestarts());
    }
  }

  @Test
  void givenV1Peer_whenStreamOrBinaryBodyRequested_thenOnlyThatRequestFailsSayingV1() throws Exception {
    try (WorkerPool pool = WorkerPool.create(v1Config().withLegacyV1Peers(true))) {
      long pid = pool.pids().get(0);
      String name = "worker 1 (pid " + pid + ")";
      CompletableFuture<?> stream = pool.submitStream(Request.of("echo_stream").withArg("n", 3), event -> {});
      UnsupportedRequestException s = assertInstanceOf(UnsupportedRequestException.class, failure(stream));
      assertEquals(name + " speaks protocol v1, which has no streams; command 'echo_stream' asks for one",
          s.getMessage());
      assertEquals(Optional.of(name), s.worker());
      assertInstanceOf(UnsupportedByPeerException.class, s.getCause());
      assertTrue(!s.isRetryable());

      CompletableFuture<Message> binary = pool.submit(Request.of("echo").withBody("data", NdArray.ofFloats(new float[] {1f})));
      UnsupportedRequestException b = assertInstanceOf(UnsupportedRequestException.class, failure(binary));
      assertTrue(b.getMessage().startsWith(name + " speaks protocol v1 (JSON only, bodies inline)"), b.getMessage());

      // The peer was never sent either, and serves on.
      assertEquals(Map.of("after", true), pool.call(Request.of("echo").withArg("after", true)).resultMap());
      assertEquals(List.of(pid), pool.pids());
      assertEquals(0, pool.stats().workerCrashes());
      assertEquals(2, pool.stats().failures());
    }
  }

  @Test
  void givenV1PeerNotAllowed_thenRefusedAtOnceWithWhatToCall() {
    // The default kill grace (5 s) is what a refused peer used to cost: it never exits by itself.
    WorkerConfig config = v1Config().withKillGrace(WorkerConfig.DEFAULT_KILL_GRACE);
    long t0 = System.nanoTime();
    WorkerStartException e = assertThrows(WorkerStartException.class, () -> WorkerPool.create(config));
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(WorkerStartException.Reason.VERSION_MISMATCH, e.reason());
    assertTrue(e.getMessage().matches("worker 1 \\(pid \\d+\\) \\(worker command \\[.*v1_peer\\.py\\]\\) speaks only"
        + " DSPex protocol v1 \\(hello refused: Unknown command: hello\\); it was stopped\\. To serve it \\(JSON"
        + " only, no streams, no binary bodies\\) call WorkerConfig\\.withLegacyV1Peers\\(true\\)"), e.getMessage());
    assertTrue(millis < 3000, "refused after " + millis + " ms");
  }

  @Test
  void givenCommandRunningTheDspexWorker_thenItIsAV2WorkerLikeTheModuleLaunch() throws Exception {
    WorkerConfig config = WorkerTestSupport.config()
        .withCommand(List.of(WorkerTestSupport.python(), "-m", "dspex_worker", "--log-level", "DEBUG"));
    try (WorkerPool pool = WorkerPool.create(config)) {
      assertEquals(Map.of("x", 2L), pool.call(Request.of("echo").withArg("x", 2)).resultMap());
      NdArray a = NdArray.ofFloats(new float[] {1f, 2f});
      assertEquals(a, pool.call(Request.of("echo").withBody("data", a)).body("data"));
    }
  }

  @Test
  void givenBadCommands_thenRefusedAtOnce() {
    WorkerConfig c = WorkerConfig.create();
    assertEquals("worker command must not be empty, was []",
        assertThrows(IllegalArgumentException.class, () -> c.withCommand(List.of())).getMessage());
    assertThrows(IllegalArgumentException.class, () -> c.withCommand(List.of("python", "")));
    WorkerStartException e = assertThrows(WorkerStartException.class,
        () -> PythonWorker.start(c.withCommand(List.of("/nonexistent/v1-bridge")), 1, new WorkerStats()));
    assertEquals(WorkerStartException.Reason.INTERPRETER_NOT_FOUND, e.reason());
    assertTrue(e.getMessage().startsWith("cannot run worker command [/nonexistent/v1-bridge]: "), e.getMessage());
  }

  private static Throwable failure(CompletableFuture<?> f) {
    return assertThrows(ExecutionException.class, () -> f.get(T, TimeUnit.SECONDS)).getCause();
  }
}
