package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.dspex.beam.connector.codec.ArrowUnavailableException;
import org.dspex.beam.connector.protocol.Connection;
import org.dspex.beam.connector.protocol.ProtocolException;
import org.dspex.beam.connector.protocol.ProtocolVersion;
import org.dspex.beam.connector.protocol.RemoteError;
import org.dspex.beam.connector.protocol.SpillDirectory;

/**
 * The start of a worker up to an accepted {@code hello}: fork (on the launcher thread), the hello
 * with the worker arguments under the start timeout, and the checks of its answer (protocol v2, the
 * connector's worker version, numpy/pyarrow/msgpack present). On failure the process is gone and the
 * {@link WorkerStartException} says why; see {@link StartDiagnosis}.
 *
 * <p>A V1 peer (an answer without {@code protocol: "v2"} that is no refusal of the arguments: a
 * legacy bridge's "Unknown command: hello") is accepted as it is with {@link
 * WorkerConfig#withLegacyV1Peers}; without, it is refused at once and killed, since such a peer
 * waits for its next request rather than exiting.
 */
final class WorkerHandshake {
  private WorkerHandshake() {}

  /** A worker that accepted hello, ready for its reader and writer threads. */
  record Handshaken(WorkerProcess process, WorkerLaunch launch, Connection connection, SpillDirectory spill,
      UsageLedger ledger, Map<String, Object> hello) {}

  static Handshaken open(WorkerConfig config, int id) throws WorkerStartException {
    WorkerLaunch launch = WorkerLaunch.of(config, id);
    WorkerProcess process = WorkerProcess.start(launch, id, config);
    String name = process.name();
    SpillDirectory spill = null;
    UsageLedger ledger = null;
    Connection connection = null;
    AtomicBoolean startTimedOut = new AtomicBoolean();
    // Kills a worker that never answers; the blocked hello then fails with end of stream.
    ScheduledFuture<?> startTimer = WorkerThreads.SCHEDULER.schedule(() -> {
      startTimedOut.set(true);
      process.destroyForcibly();
    }, config.startTimeout().toNanos(), TimeUnit.NANOSECONDS);
    Map<String, Object> hello;
    try {
      spill = config.spill() ? SpillDirectory.create(ScratchRoot.inMemory().path()) : null;
      ledger = UsageLedger.create();
      connection = new Connection(process.output(), process.input(), name, config.protocolSettings(), spill);
      Map<String, Object> args = new LinkedHashMap<>();
      args.put("worker_id", id);
      args.put("threads", config.threadsPerWorker());
      args.put("handler_modules", config.handlerModules());
      args.put("request_threads", config.requestThreads());
      args.put("usage_ledger", ledger.file().toString());
      hello = connection.hello(args);
      startTimer.cancel(false);
      if (speaksV1(connection)) {
        if (!config.legacyV1Peers()) {
          throw v1Refused(name, connection, launch);
        }
      } else if (connection.helloError() != null) {
        throw refused(name, connection, launch, config, process);
      } else {
        checkHello(hello, name, launch, config);
      }
    } catch (ArrowUnavailableException e) {
      startTimer.cancel(false);
      abandon(process, connection, spill, ledger);
      throw new WorkerStartException(WorkerStartException.Reason.CONNECTOR_FAILED,
          name + " was stopped before its hello: " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      startTimer.cancel(false);
      WorkerStartException failure = e instanceof WorkerStartException
          ? (WorkerStartException) e
          : diagnose(name, launch, config, process, e instanceof IOException ? (IOException) e : new IOException(e),
              startTimedOut.get());
      abandon(process, connection, spill, ledger);
      throw failure;
    }
    return new Handshaken(process, launch, connection, spill, ledger, hello);
  }

  /**
   * Whether the peer stays on V1: it answered without switching to v2, and not with an error of its
   * own (a worker refusing its arguments names the Python exception), but with success or as a
   * legacy bridge does (a plain-string error, or an unknown command).
   */
  private static boolean speaksV1(Connection c) {
    if (c.protocolVersion() == ProtocolVersion.V2) {
      return false;
    }
    RemoteError e = c.helloError();
    return e == null || RemoteError.LEGACY_TYPE.equals(e.type()) || "UnknownCommand".equals(e.type());
  }

  private static WorkerStartException v1Refused(String name, Connection c, WorkerLaunch launch) {
    String answer = c.helloError() != null ? "hello refused: " + c.helloError().message() : "answered " + c.helloResult();
    return new WorkerStartException(WorkerStartException.Reason.VERSION_MISMATCH,
        launch.redactor.redact(name + " (" + launch.description + ") speaks only DSPex protocol v1 (" + answer
            + "); it was stopped. To serve it (JSON only, no streams, no binary bodies) call"
            + " WorkerConfig.withLegacyV1Peers(true)"), null);
  }

  private static void checkHello(Map<String, Object> hello, String name, WorkerLaunch launch,
      WorkerConfig config) throws WorkerStartException {
    Object version = hello.get("worker_version");
    if (!Connection.CLIENT_VERSION.equals(version)) {
      throw new WorkerStartException(WorkerStartException.Reason.VERSION_MISMATCH,
          name + " runs worker code version " + version + " but the connector is version "
              + Connection.CLIENT_VERSION + ": module " + config.module()
              + " was found somewhere else than in the connector jar (check withPythonPath and PYTHONPATH)", null);
    }
    Object versions = hello.get("versions");
    List<String> missing = new ArrayList<>();
    for (String pkg : List.of("numpy", "pyarrow", "msgpack")) {
      if (!(versions instanceof Map) || ((Map<?, ?>) versions).get(pkg) == null) {
        missing.add(pkg);
      }
    }
    if (!missing.isEmpty()) {
      throw new WorkerStartException(WorkerStartException.Reason.MISSING_PACKAGE,
          "Python interpreter " + launch.interpreter + " lacks " + String.join(", ", missing)
              + ", which DSPex workers need: " + StartDiagnosis.installHint(launch.interpreter), null);
    }
  }

  /** The worker answered hello with an error; it exits after that, its stderr says more. */
  private static WorkerStartException refused(String name, Connection c, WorkerLaunch launch, WorkerConfig config,
      WorkerProcess process) {
    Integer exit = process.exitWithinGrace();
    String status = exit == null ? "" : " and exited with " + ExitStatus.describe(exit);
    process.awaitStderrEnd();
    RemoteError error = c.helloError();
    String why = error == null ? "" : ": " + error.type() + ": " + error.message();
    return new WorkerStartException(WorkerStartException.Reason.REFUSED,
        launch.redactor.redact(name + " (" + launch.description
            + ", handler modules " + config.handlerModules() + ") refused hello" + why + status
            + process.stderrSuffix()), null);
  }

  private static WorkerStartException diagnose(String name, WorkerLaunch launch, WorkerConfig config,
      WorkerProcess process, IOException error, boolean timedOut) {
    Integer exit = null;
    if (!(error instanceof ProtocolException)) {
      exit = process.exitWithinGrace();
    } else {
      process.destroyForcibly();
      process.exitWithinGrace();
    }
    process.awaitStderrEnd();
    return StartDiagnosis.diagnose(name, launch, error, timedOut ? null : exit, timedOut,
        process.lastStderrLines(), process.stderrSuffix(), launch.redactor, config);
  }

  private static void abandon(WorkerProcess process, Connection connection, SpillDirectory spill,
      UsageLedger ledger) {
    process.destroyForcibly();
    if (ledger != null) {
      // Nothing was asked of it yet: no LM call to count.
      ledger.close();
    }
    try {
      if (connection != null) {
        connection.close();
      }
    } catch (IOException ignored) {
      // The process is gone; nothing to flush.
    }
    try {
      if (spill != null) {
        spill.close();
      }
    } catch (IOException ignored) {
      // A leftover spill directory is swept by the next start.
    }
  }
}
