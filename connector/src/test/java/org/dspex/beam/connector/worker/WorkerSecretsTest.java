package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.Map;
import org.dspex.beam.connector.protocol.ElementFailure;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.StreamEvent;
import org.junit.jupiter.api.Test;

/** A secret given through the environment reaches the worker and nothing the Java side writes. */
class WorkerSecretsTest {
  private static final String KEY = "DSPEX_TEST_API_KEY";
  private static final String SECRET = "sk-fake-7Hq2ZpL9recognisable";

  @Test
  void givenSecretEnv_thenWorkerGetsItButLogsErrorsAndStatsOfAFailingRunNeverShowIt() throws Exception {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    // slf4j-simple writes to whatever System.err is at the time of each line.
    System.setErr(new PrintStream(new TeeStream(original, captured), true, StandardCharsets.UTF_8));
    StringBuilder everything = new StringBuilder();
    WorkerConfig config = WorkerTestSupport.config().withSecretEnv(KEY, SECRET);
    try {
      WorkerPool pool = WorkerPool.create(config);
      assertEquals(SECRET, pool.call(Request.of("env").withArg("names", List.of(KEY))).resultMap().get(KEY));
      // A handler that prints the key (stdout goes to stderr) and raises an error mentioning it.
      pool.call(Request.of("print_stdout").withArg("text", "using key " + SECRET).withArg("mode", "both"));
      RemoteHandlerException raised = assertThrows(RemoteHandlerException.class, () ->
          pool.call(Request.of("raise").withArg("type", "PermissionError")
              .withArg("message", "key " + SECRET + " was rejected")));
      assertEquals("key *** was rejected", raised.remoteMessage());
      everything.append(raised.getMessage()).append(raised.traceback());
      // Then the worker dies with the key among its last stderr lines.
      ExecutionException crash = assertThrows(ExecutionException.class, () ->
          pool.submit(Request.of("crash").withArg("exit_code", 9)).get(20, TimeUnit.SECONDS));
      WorkerCrashedException crashed = assertInstanceOf(WorkerCrashedException.class, crash.getCause());
      assertTrue(crashed.getMessage().contains("using key ***"), crashed.getMessage());
      everything.append(crashed.getMessage());
      everything.append(pool.stats()).append(config);
      pool.close();
    } finally {
      System.setErr(original);
    }
    String logs = captured.toString(StandardCharsets.UTF_8);
    assertTrue(logs.contains("using key ***"), "the stderr line should be logged, redacted");
    everything.append(logs);
    assertFalse(everything.toString().contains(SECRET), "the secret leaked:\n" + everything);
    assertFalse(everything.toString().contains("7Hq2ZpL9"), "part of the secret leaked");
  }

  // No test handler streams element failures (and the Python side is not ours to change here), so
  // these check the redaction PythonWorker.dispatch applies to every chunk and plain response.
  @Test
  void givenStreamedElementFailureWithSecret_thenRedactedBeforeDelivery() {
    Redactor r = Redactor.of(List.of(SECRET));
    StreamEvent.Chunk chunk = new StreamEvent.Chunk(3, List.of(0L),
        List.of(new ElementFailure(1, "AuthenticationError", "bad key " + SECRET), new ElementFailure(2, "X", "fine")),
        Map.of(), List.of(), Map.of());
    StreamEvent.Chunk out = r.redact(chunk);
    assertEquals(List.of(new ElementFailure(1, "AuthenticationError", "bad key ***"), new ElementFailure(2, "X", "fine")),
        out.failed());
    assertEquals(chunk.indexes(), out.indexes());
    assertFalse(out.toString().contains(SECRET));
  }

  @Test
  void givenPlainResponseFailedListWithSecret_thenRedacted() {
    Redactor r = Redactor.of(List.of(SECRET));
    Message m = new Message(Map.of("id", 4L, "success", true, "result",
        Map.of("failed", List.of(Map.of("index", 0L, "type", "E", "message", "key=" + SECRET)))), List.of());
    Message out = r.redactFailed(m);
    assertEquals(List.of(new ElementFailure(0, "E", "key=***")),
        ElementFailure.listFromWire(out.resultMap().get("failed")));
    assertEquals(4L, out.id());
    Message clean = new Message(Map.of("id", 5L, "success", true, "result", Map.of()), List.of());
    assertTrue(r.redactFailed(clean) == clean);
  }

  /** Writes to two streams. */
  private static final class TeeStream extends OutputStream {
    private final OutputStream a;
    private final OutputStream b;

    TeeStream(OutputStream a, OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int x) throws java.io.IOException {
      a.write(x);
      synchronized (b) {
        b.write(x);
      }
    }

    @Override
    public void write(byte[] buf, int off, int len) throws java.io.IOException {
      a.write(buf, off, len);
      synchronized (b) {
        b.write(buf, off, len);
      }
    }
  }
}
