package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.junit.jupiter.api.Test;

/**
 * The usage ledger: read as the Python side reads it (the golden ledger of {@code testdata/usage}),
 * and, with real workers, what a worker's ledger holds beyond what its answers reported is counted
 * once when it ends, however it ends, and its directory (in the JVM's scratch root, which is swept
 * when its JVM is gone: ScratchRootTest) is gone.
 */
class UsageLedgerTest {

  @Test
  void givenTheGoldenLedger_thenItsTotalsAreThoseThePythonSideReads() throws IOException {
    Path golden = Path.of(System.getProperty("dspex.testdata", "../testdata")).resolve("usage/ledger.txt");
    UsageLedger.Totals t = UsageLedger.parse(Files.readString(golden, StandardCharsets.US_ASCII), golden.toString());
    // The same numbers as python/tests/test_usage_ledger.py: call 4 is in flight.
    assertEquals(new UsageLedger.Totals(new LmUsage(16, 1130, 221), 1), t);
  }

  @Test
  void givenAFileThatIsNoLedger_thenAnErrorNamingIt() {
    IOException e = assertThrows(IOException.class, () -> UsageLedger.parse("hello\n", "/x/ledger"));
    assertTrue(e.getMessage().startsWith("/x/ledger is not a usage ledger"), e.getMessage());
  }

  private static long calls(List<StreamEvent> events) {
    long n = 0;
    for (StreamEvent e : events) {
      if (e instanceof StreamEvent.Chunk) {
        n += LmUsage.of(((StreamEvent.Chunk) e).usage()).calls();
      }
    }
    return n;
  }

  @Test
  void givenWorkerDiedAfterPayingForCallsItNeverReported_thenThePoolCountsThoseOnce() throws Exception {
    try (WorkerPool pool = WorkerPool.create(WorkerTestSupport.config())) {
      List<StreamEvent> events = Collections.synchronizedList(new ArrayList<>());
      CompletableFuture<StreamEvent.End> f = pool.submitStream(Request.of("pay_then_exit").withArg("paid", 5)
          .withArg("reported", 3).withArg("in_flight", 2).withArg("prompt_tokens", 10)
          .withArg("completion_tokens", 2), events::add);
      ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
      assertInstanceOf(WorkerCrashedException.class, e.getCause());
      assertEquals(3, calls(events));
      // Counted before the request failed: the two calls paid and never reported, with their
      // tokens, and the two in flight, whose tokens nobody knows.
      WorkerStats s = pool.stats();
      assertEquals(4, s.unreportedLmCalls());
      assertEquals(20, s.unreportedPromptTokens());
      assertEquals(4, s.unreportedCompletionTokens());
    }
  }

  @Test
  void givenWorkerThatReportedEveryCall_thenNothingIsUnreportedAndItsLedgerIsGoneAfterClose() throws Exception {
    Set<Path> before = ledgerDirectories();
    WorkerStats stats = new WorkerStats();
    PythonWorker w = PythonWorker.start(WorkerTestSupport.config(), 1, stats);
    Set<Path> during = ledgerDirectories();
    during.removeAll(before);
    assertEquals(1, during.size(), "one new ledger directory: " + during);
    List<StreamEvent> events = Collections.synchronizedList(new ArrayList<>());
    w.submitStream(Request.of("pay_then_exit").withArg("paid", 4).withArg("reported", 4).withArg("in_flight", 1)
        .withArg("exit_code", null), events::add).get(30, TimeUnit.SECONDS);
    w.close();
    assertEquals(4, calls(events));
    assertEquals(0, stats.unreportedLmCalls());
    Path ledgerDirectory = during.iterator().next();
    assertTrue(Files.notExists(ledgerDirectory), ledgerDirectory + " is still there");
  }

  private static Set<Path> ledgerDirectories() throws IOException {
    Set<Path> dirs = new HashSet<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(ScratchRoot.onDisk().path(),
        UsageLedger.DIRECTORY_PREFIX + "*")) {
      s.forEach(dirs::add);
    }
    return dirs;
  }
}
