package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.codec.NpyDtype;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerPool;

/**
 * {@code bench/run workers}: what supervision costs on top of the protocol. Ping latency, small
 * (1 KB) request rates on one worker (one at a time, then pipelined) and on N workers, a 64 MiB
 * echo through a worker, and the raw pipe (no framing, {@code bench/py/transport_peer.py raw}) for
 * the same bytes in the same run. Gigabytes per second count both directions. Measures, never
 * asserts.
 */
final class WorkerBench {
  private static final int SMALL_BYTES = 1024;
  private static final int BIG_BYTES = 64 * 1024 * 1024;
  private static final long RATE_NANOS = 2_000_000_000L;
  private static final int WINDOW = 32;

  private final BenchEnvironment env;

  WorkerBench(BenchEnvironment env) {
    this.env = env;
  }

  void run() throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("machine", BenchEnvironment.machine());
    int n = Math.max(2, Runtime.getRuntime().availableProcessors());
    WorkerConfig base = WorkerConfig.create().withPython(env.python().toString())
        .withPythonPath(env.root().resolve("python/testing").toString())
        .withHandlerModules("dspex_testing.handlers");
    String payload = "x".repeat(SMALL_BYTES);
    try (WorkerPool one = WorkerPool.create(base)) {
      long[] pings = new long[3000];
      for (int i = 0; i < 300; i++) {
        one.call(Request.of("ping"));
      }
      for (int i = 0; i < pings.length; i++) {
        long t0 = System.nanoTime();
        one.call(Request.of("ping"));
        pings[i] = System.nanoTime() - t0;
      }
      Arrays.sort(pings);
      out.put("ping_p50_us", round(pings[pings.length / 2] / 1e3));
      out.put("ping_p99_us", round(pings[(int) (pings.length * 0.99)] / 1e3));
      out.put("small_rps_1_worker", round(rate(one, payload, 1, 1)));
      out.put("small_rps_pipelined_1_worker", round(rate(one, payload, 1, WINDOW)));
      NdArray big = NdArray.of(NpyDtype.fromDescr("<f4"), new long[] {BIG_BYTES / 4},
          ByteBuffer.allocateDirect(BIG_BYTES).order(ByteOrder.LITTLE_ENDIAN));
      Timer.Measured<Message> echo = Timer.median(() -> one.call(Request.of("echo").withBody("data", big)));
      out.put("echo_64mib_gbps", round(2.0 * BIG_BYTES / (echo.medianMillis() / 1e3) / 1e9));
    }
    out.put("n_workers", n);
    try (WorkerPool pool = WorkerPool.create(base.withWorkers(n))) {
      out.put("small_rps_n_workers", round(rate(pool, payload, 4, WINDOW)));
    }
    out.put("raw_pipe_64mib_gbps", round(rawPipeGbps()));
    Files.createDirectories(env.results());
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(env.results().resolve("workers.json").toFile(), out);
    System.out.printf("%-30s %s%n", "metric", "value");
    out.forEach((k, v) -> System.out.printf("%-30s %s%n", k, v));
  }

  /** Requests per second from {@code threads} callers, each keeping {@code window} in flight. */
  private static double rate(WorkerPool pool, String payload, int threads, int window) throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(threads);
    AtomicLong done = new AtomicLong();
    try {
      // Warm-up, then the measured run.
      for (long budget : new long[] {RATE_NANOS / 4, RATE_NANOS}) {
        done.set(0);
        long t0 = System.nanoTime();
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          fs.add(callers.submit(() -> {
            BlockingQueue<CompletableFuture<Message>> inFlight = new ArrayBlockingQueue<>(window);
            while (System.nanoTime() - t0 < budget) {
              if (inFlight.size() == window) {
                inFlight.take().get();
                done.incrementAndGet();
              }
              inFlight.add(pool.submit(Request.of("echo").withArg("payload", payload)));
            }
            for (CompletableFuture<Message> f : inFlight) {
              f.get();
              done.incrementAndGet();
            }
            return null;
          }));
        }
        for (Future<?> f : fs) {
          f.get();
        }
        if (budget == RATE_NANOS) {
          return done.get() / ((System.nanoTime() - t0) / 1e9);
        }
      }
      throw new IllegalStateException();
    } finally {
      callers.shutdownNow();
      callers.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** 64 MiB into {@code transport_peer.py raw} and 64 MiB back, no framing at all. */
  private double rawPipeGbps() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(env.python().toString(), env.peer("transport_peer.py").toString(),
        "raw", Integer.toString(BIG_BYTES));
    pb.environment().put("PYTHONPATH", env.root().resolve("python").toString());
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    byte[] data = new byte[BIG_BYTES];
    byte[] back = new byte[BIG_BYTES];
    try (OutputStream in = p.getOutputStream(); InputStream out = p.getInputStream()) {
      Timer.Measured<Integer> m = Timer.median(() -> {
        in.write(data);
        in.flush();
        int got = 0;
        while (got < BIG_BYTES) {
          int r = out.read(back, got, BIG_BYTES - got);
          if (r < 0) {
            throw new IllegalStateException("raw peer ended early");
          }
          got += r;
        }
        return got;
      });
      return 2.0 * BIG_BYTES / (m.medianMillis() / 1e3) / 1e9;
    } finally {
      p.waitFor(10, TimeUnit.SECONDS);
      p.destroyForcibly();
    }
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
