package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.CorruptedPayloadException;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.PayloadException;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.junit.jupiter.api.Test;

/** One worker process, no pool: pipelining, streams, handler errors, stdout noise, timeouts. */
class PythonWorkerTest {
  @Test
  void givenStartedWorker_thenPipelinedEchoesComeBackToTheirCallers() throws Exception {
    try (PythonWorker w = PythonWorker.start(WorkerTestSupport.config(), 1, new WorkerStats())) {
      assertEquals("v2", w.helloResult().get("protocol"));
      List<CompletableFuture<Message>> futures = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        futures.add(w.submit(Request.of("echo").withArg("i", i)));
      }
      for (int i = 0; i < 200; i++) {
        assertEquals((long) i, ((Map<?, ?>) futures.get(i).get(10, TimeUnit.SECONDS).result()).get("i"));
      }
      Message pong = w.submit(Request.of("ping")).get(10, TimeUnit.SECONDS);
      assertEquals(true, pong.resultMap().get("ok"));
      assertEquals(w.pid(), ((Number) pong.resultMap().get("pid")).longValue());
      assertEquals(0, w.load());
    }
  }

  @Test
  void givenHandlersWritingToStdoutAndFd1_thenChannelIsNotCorrupted() throws Exception {
    try (PythonWorker w = PythonWorker.start(WorkerTestSupport.config(), 1, new WorkerStats())) {
      for (String mode : List.of("print", "fd1", "both")) {
        Message m = w.submit(Request.of("print_stdout").withArg("text", "noise " + mode).withArg("mode", mode))
            .get(10, TimeUnit.SECONDS);
        assertEquals("noise " + mode, m.resultMap().get("printed"));
      }
      Message echo = w.submit(Request.of("echo").withArg("after", "noise")).get(10, TimeUnit.SECONDS);
      assertEquals("noise", echo.resultMap().get("after"));
      waitFor(() -> w.lastStderrLines().stream().anyMatch(l -> l.contains("noise fd1")));
    }
  }

  @Test
  void givenHandlerRaises_thenRemoteHandlerErrorWithTypeMessageTraceback_andWorkerKeepsServing() throws Exception {
    try (PythonWorker w = PythonWorker.start(WorkerTestSupport.config(), 1, new WorkerStats())) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> w.submit(Request.of("raise").withArg("type", "ValueError").withArg("message", "bad input 42"))
              .get(10, TimeUnit.SECONDS));
      RemoteHandlerException r = assertInstanceOf(RemoteHandlerException.class, e.getCause());
      assertEquals("ValueError", r.type());
      assertEquals("bad input 42", r.remoteMessage());
      assertTrue(r.traceback().contains("raise exc_type(message)"), r.traceback());
      assertFalse(r.isRetryable());
      assertEquals(java.util.Optional.of(w.name()), r.worker());
      assertTrue(r.getMessage().contains("'raise' with ValueError: bad input 42"), r.getMessage());
      assertEquals(1L, ((Map<?, ?>) w.submit(Request.of("echo").withArg("x", 1)).get(10, TimeUnit.SECONDS).result()).get("x"));
      assertTrue(w.isRunning());
      assertEquals(2, w.answered());
    }
  }

  @Test
  void givenStreamingRequest_thenListenerSeesEveryEventInOrderBeforeTheFutureCompletes() throws Exception {
    try (PythonWorker w = PythonWorker.start(WorkerTestSupport.config(), 1, new WorkerStats())) {
      List<Object> events = Collections.synchronizedList(new ArrayList<>());
      StreamEvent.End end = w.submitStream(
              Request.of("slow_stream").withArg("n", 5).withArg("delay_s", 0.01), new StreamListener() {
                @Override
                public void onEvent(StreamEvent event) {
                  events.add(event);
                }

                @Override
                public void onAssigned(String workerName) {
                  events.add("assigned " + workerName);
                }
              })
          .get(10, TimeUnit.SECONDS);
      assertEquals("assigned " + w.name(), events.remove(0));
      assertEquals(7, events.size());
      assertInstanceOf(StreamEvent.Start.class, events.get(0));
      for (int i = 0; i < 5; i++) {
        StreamEvent.Chunk c = assertInstanceOf(StreamEvent.Chunk.class, events.get(i + 1));
        assertEquals(List.of((long) i), c.indexes());
      }
      assertEquals(end, events.get(6));
      assertEquals(5, end.ok());
    }
  }

  @Test
  void givenChunkThatCannotBeRead_thenLaterChunksStillReachTheListenerAndTheStreamFailsAtItsEnd() throws Exception {
    try (PythonWorker w = PythonWorker.start(WorkerTestSupport.config(), 1, new WorkerStats())) {
      List<Long> delivered = Collections.synchronizedList(new ArrayList<>());
      List<StreamEvent> ends = Collections.synchronizedList(new ArrayList<>());
      CompletableFuture<StreamEvent.End> stream = w.submitStream(
          Request.of("stream_with_corrupt_chunk").withArg("n", 6).withArg("corrupt", 2), event -> {
            if (event instanceof StreamEvent.Chunk) {
              delivered.addAll(((StreamEvent.Chunk) event).indexes());
            } else if (event.isLast()) {
              ends.add(event);
            }
          });
      ExecutionException e = assertThrows(ExecutionException.class, () -> stream.get(10, TimeUnit.SECONDS));
      PayloadException c = assertInstanceOf(PayloadException.class, e.getCause());
      assertInstanceOf(CorruptedPayloadException.class, c.getCause());
      assertTrue(c.getMessage().startsWith(w.name() + ": "), c.getMessage());
      // Every chunk but the broken one reached the caller, the ones after it included: a caller
      // keeping streamed results re-sends index 2 only.
      assertEquals(List.of(0L, 1L, 3L, 4L, 5L), delivered);
      assertEquals(List.of(), ends);
      // The channel stayed in step: the worker serves on.
      assertTrue(w.isRunning());
      assertEquals("still here", ((Map<?, ?>) w.submit(Request.of("echo").withArg("text", "still here"))
          .get(10, TimeUnit.SECONDS).result()).get("text"));
    }
  }

  @Test
  void givenHandlerSleepsPastRequestTimeout_thenWorkerKilledAndPendingRequestsFailTyped() throws Exception {
    WorkerConfig config = WorkerTestSupport.config().withRequestTimeout(Duration.ofMillis(700));
    PythonWorker w = PythonWorker.start(config, 1, new WorkerStats());
    CompletableFuture<Message> hung = w.submit(Request.of("sleep").withArg("seconds", 30));
    Thread.sleep(100);
    CompletableFuture<Message> other = w.submit(Request.of("sleep").withArg("seconds", 30), Duration.ofSeconds(60));
    ExecutionException e = assertThrows(ExecutionException.class, () -> hung.get(10, TimeUnit.SECONDS));
    WorkerTimeoutException t = assertInstanceOf(WorkerTimeoutException.class, e.getCause());
    assertTrue(t.getMessage().contains("request 1 'sleep' exceeded its timeout of 700 ms"), t.getMessage());
    assertTrue(t.getMessage().contains("exited with SIGTERM / exit code 143"), t.getMessage());
    ExecutionException o = assertThrows(ExecutionException.class, () -> other.get(10, TimeUnit.SECONDS));
    WorkerCrashedException c = assertInstanceOf(WorkerCrashedException.class, o.getCause());
    assertTrue(c.getMessage().contains("during request 2 'sleep' after"), c.getMessage());
    assertInstanceOf(WorkerTimeoutException.class, w.terminated().get(10, TimeUnit.SECONDS));
    assertFalse(w.isRunning());
    ExecutionException late = assertThrows(ExecutionException.class, () -> w.submit(Request.of("echo")).get());
    assertInstanceOf(WorkerCrashedException.class, late.getCause());
  }

  @Test
  void givenNumpyBody_thenEchoedAndCountedAsNumpyBytesBothWays() throws Exception {
    WorkerStats stats = new WorkerStats();
    try (PythonWorker w = PythonWorker.start(WorkerTestSupport.config(), 1, stats)) {
      NdArray a = NdArray.ofFloats(new float[] {1f, 2f, 3f});
      Message m = w.submit(Request.of("echo").withBody("data", a)).get(10, TimeUnit.SECONDS);
      assertEquals(a, m.body("data"));
      assertTrue(stats.bytesSent(ContentFormat.NUMPY) > 12, "sent " + stats.bytesSent(ContentFormat.NUMPY));
      assertEquals(stats.bytesSent(ContentFormat.NUMPY), stats.bytesReceived(ContentFormat.NUMPY));
      assertEquals(0, stats.bytesSent(ContentFormat.ARROW));
    }
  }

  @Test
  void givenBothPipesFullOfLargeBodies_thenNoDeadlockAndEveryEchoMatches() throws Exception {
    try (PythonWorker w = PythonWorker.start(WorkerTestSupport.config().withSpill(false), 1, new WorkerStats())) {
      List<NdArray> sent = new ArrayList<>();
      List<CompletableFuture<Message>> futures = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        float[] values = new float[512 * 1024]; // 2 MiB each way, the pipes hold 64 KiB
        java.util.Arrays.fill(values, i);
        NdArray a = NdArray.ofFloats(values);
        sent.add(a);
        futures.add(w.submit(Request.of("echo").withBody("data", a)));
      }
      for (int i = 0; i < sent.size(); i++) {
        assertEquals(sent.get(i), futures.get(i).get(30, TimeUnit.SECONDS).body("data"));
      }
    }
  }

  @Test
  void givenSlowStreamListener_thenOtherRequestsOnTheWorkerAreNotHeldUp() throws Exception {
    try (PythonWorker w = PythonWorker.start(WorkerTestSupport.config(), 1, new WorkerStats())) {
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      CompletableFuture<StreamEvent.End> stream = w.submitStream(
          Request.of("slow_stream").withArg("n", 3).withArg("delay_s", 0.0), event -> release.await());
      // The listener is stuck on its first event; the reader is not.
      for (int i = 0; i < 20; i++) {
        assertEquals((long) i, ((Map<?, ?>) w.submit(Request.of("echo").withArg("i", i)).get(10, TimeUnit.SECONDS).result()).get("i"));
      }
      assertFalse(stream.isDone());
      release.countDown();
      assertEquals(3, stream.get(10, TimeUnit.SECONDS).ok());
    }
  }

  @Test
  void givenSegfaultInHandler_thenCrashNamesTheSignalWithTheWorkersStacks() throws Exception {
    // faulthandler prints every thread's stack: keep enough lines to reach its first one.
    PythonWorker w = PythonWorker.start(WorkerTestSupport.config().withStderrLines(200), 1, new WorkerStats());
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> w.submit(Request.of("crash").withArg("signal", "SIGSEGV")).get(20, TimeUnit.SECONDS));
    WorkerCrashedException c = assertInstanceOf(WorkerCrashedException.class, e.getCause());
    assertTrue(c.getMessage().startsWith("worker 1 (pid " + w.pid() + ") exited with SIGSEGV / exit code 139"
        + " during request 1 'crash' after "), c.getMessage());
    assertTrue(c.getMessage().contains("Fatal Python error: Segmentation fault"), c.getMessage());
  }

  @Test
  void givenWorkerSilentAtStart_thenStartTimeoutKillsItWithAClearError() {
    // json.tool reads its stdin to the end before writing anything: it never answers hello.
    WorkerConfig config = WorkerTestSupport.config().withModule("json.tool").withStartTimeout(java.time.Duration.ofMillis(800));
    WorkerStartException e = assertThrows(WorkerStartException.class, () -> PythonWorker.start(config, 1, new WorkerStats()));
    assertEquals(WorkerStartException.Reason.TIMED_OUT, e.reason());
    assertTrue(e.getMessage().contains("module json.tool) did not answer hello within 800 ms"
        + " (WorkerConfig.withStartTimeout) and was killed"), e.getMessage());
  }

  static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 10 s");
      }
      Thread.sleep(20);
    }
  }
}
