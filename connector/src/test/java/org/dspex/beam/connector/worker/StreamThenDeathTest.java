package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker that dies right after streaming: every chunk it put on the channel before {@code
 * os._exit} reaches its listener before the request fails, so a caller never sends again an
 * element whose answer the worker already wrote (and an LM already charged for).
 */
class StreamThenDeathTest {
  private static Set<Long> indexes(List<StreamEvent> events) {
    Set<Long> out = new TreeSet<>();
    for (StreamEvent e : events) {
      if (e instanceof StreamEvent.Chunk) {
        out.addAll(((StreamEvent.Chunk) e).indexes());
      }
    }
    return out;
  }

  @RepeatedTest(5)
  void givenChunksWrittenJustBeforeExit_thenEveryOneReachesTheListenerBeforeTheCrashIsReported() throws Exception {
    PythonWorker w = PythonWorker.start(WorkerTestSupport.config(), 1, new WorkerStats());
    List<StreamEvent> events = Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<StreamEvent.End> f = w.submitStream(
        Request.of("stream_then_exit").withArg("n", 100).withArg("total", 101), events::add);
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
    WorkerCrashedException c = assertInstanceOf(WorkerCrashedException.class, e.getCause());
    assertTrue(c.getMessage().contains("exited with exit code 9 during request 1 'stream_then_exit'"), c.getMessage());
    // The future fails after the listener saw everything: no waiting needed.
    Set<Long> expected = new TreeSet<>();
    for (long i = 0; i < 100; i++) {
      expected.add(i);
    }
    assertEquals(expected, indexes(events));
    assertInstanceOf(StreamEvent.Start.class, events.get(0));
  }

  @RepeatedTest(5)
  void givenOtherStreamsInFlightWhenAWorkerDies_thenEveryChunkTheyFlushedReachesTheirListeners(@TempDir Path dir)
      throws Exception {
    PythonWorker w = PythonWorker.start(WorkerTestSupport.config().withRequestThreads(4), 1, new WorkerStats());
    Path flushed = dir.resolve("flushed.log");
    Map<Long, List<StreamEvent>> byRequest = new ConcurrentHashMap<>();
    List<CompletableFuture<StreamEvent.End>> futures = new ArrayList<>();
    for (int k = 0; k < 3; k++) {
      // Streams that would run for seconds, flushing a chunk every millisecond...
      futures.add(w.submitStream(Request.of("stream_then_exit").withArg("n", 5000).withArg("total", 5000)
          .withArg("exit_code", null).withArg("delay_s", 0.001).withArg("flushed_log", flushed.toString()),
          ev -> byRequest.computeIfAbsent(ev.id(), id -> Collections.synchronizedList(new ArrayList<>())).add(ev)));
    }
    // ...and one that kills the worker while they do.
    futures.add(w.submitStream(Request.of("stream_then_exit").withArg("n", 50).withArg("delay_s", 0.002), ev -> { }));
    for (CompletableFuture<StreamEvent.End> f : futures) {
      ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
      assertInstanceOf(WorkerCrashedException.class, e.getCause());
    }
    Map<Long, Set<Long>> written = new ConcurrentHashMap<>();
    for (String line : Files.readAllLines(flushed, StandardCharsets.UTF_8)) {
      String[] parts = line.split(" ");
      written.computeIfAbsent(Long.parseLong(parts[0]), id -> new TreeSet<>()).add(Long.parseLong(parts[1]));
    }
    assertEquals(3, written.size(), "every stream flushed chunks before the death: " + written.keySet());
    for (Map.Entry<Long, Set<Long>> e : written.entrySet()) {
      Set<Long> delivered = indexes(byRequest.getOrDefault(e.getKey(), List.of()));
      // A chunk may be delivered without its log line (the death fell in between), never the reverse.
      assertTrue(delivered.containsAll(e.getValue()), "request " + e.getKey() + ": flushed " + e.getValue().size()
          + " chunks, the listener saw " + delivered.size());
    }
  }
}
