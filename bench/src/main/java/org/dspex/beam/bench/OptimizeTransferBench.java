package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.ProtocolSettings;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.connector.worker.WorkerStats;

/**
 * {@code bench/run optimize-transfer}: how a training set of 10,000, 100,000 and 1,000,000 examples
 * (question, answer, a list of three context passages) best reaches the worker that compiles it:
 * as one body forced to JSON (inline in the header), MSGPACK, ARROW, or as a REF file in the spill
 * directory ({@code /dev/shm}; Arrow inside, as AUTO picks for these sizes). Each row times the
 * request from the JVM (encoding included) until the worker holds every example as a {@code
 * dspy.Example} ({@code bench/py/optimize_transfer_handlers.py}: the optimize kind's own decoding
 * and {@code to_examples}), on a fresh worker whose peak RSS ({@code VmHWM} of {@code
 * /proc/<pid>/status}) is read after its last request. Measures, never asserts; the fastest format
 * at 1,000,000 examples is the default for large sets.
 */
final class OptimizeTransferBench {
  static final int[] SIZES = {10_000, 100_000, 1_000_000};
  /** The inline rows of a million examples are above the default 256 MiB frame limit: raised, and said so. */
  static final int MAX_FRAME_BYTES = 1 << 30;
  /** Timed requests per row up to this many examples (the median is reported), one above. */
  static final int SMALL = 100_000;
  static final int SMALL_REPS = 3;
  /** Examples of the untimed request each worker serves first (the JVM's codecs warm up on it). */
  static final int WARMUP = 10_000;
  static final String LARGEST_KEY = "default_large_format";

  private static final List<String> INPUTS = List.of("question", "context");
  private static final List<String> LABELS = List.of("answer");
  private static final Map<String, FormatChoice> FORMATS = new LinkedHashMap<>();

  static {
    FORMATS.put("json", FormatChoice.forced(ContentFormat.JSON));
    FORMATS.put("msgpack", FormatChoice.forced(ContentFormat.MSGPACK));
    FORMATS.put("arrow", FormatChoice.forced(ContentFormat.ARROW));
    FORMATS.put("ref", FormatChoice.REF);
  }

  private final BenchEnvironment env;

  OptimizeTransferBench(BenchEnvironment env) {
    this.env = env;
  }

  void run() throws Exception {
    System.out.printf("max_frame_bytes raised to %,d for this run (default %,d): the inline JSON and MessagePack"
        + " bodies of 1,000,000 examples need it%n", MAX_FRAME_BYTES, ProtocolSettings.DEFAULT_MAX_FRAME_BYTES);
    WorkerConfig config = WorkerConfig.create().withPython(env.python().toString())
        .withPythonPath(env.root().resolve("bench/py").toString())
        .withHandlerModules("optimize_transfer_handlers")
        .withProtocolSettings(ProtocolSettings.defaults().withMaxFrameBytes(MAX_FRAME_BYTES))
        .withRequestTimeout(Duration.ofMinutes(30))
        .withStallTimeout(Duration.ofMinutes(5));
    List<Map<String, Object>> rows = new ArrayList<>();
    System.out.printf("%10s %-8s %14s %9s %9s %9s %12s%n", "examples", "format", "bytes", "seconds", "decode_s",
        "examples_s", "peak_rss_mib");
    for (int n : SIZES) {
      List<Map<String, Object>> examples = examples(n);
      for (Map.Entry<String, FormatChoice> f : FORMATS.entrySet()) {
        Map<String, Object> row = row(config, examples, f.getKey(), f.getValue());
        rows.add(row);
        System.out.printf("%,10d %-8s %,14d %9.3f %9.3f %9.3f %12d%n", n, f.getKey(), row.get("bytes"),
            row.get("seconds"), row.get("worker_decode_s"), row.get("worker_examples_s"),
            row.get("worker_peak_rss_mib"));
      }
    }
    String best = null;
    double bestSeconds = Double.MAX_VALUE;
    for (Map<String, Object> r : rows) {
      if ((int) r.get("examples") == SIZES[SIZES.length - 1] && (double) r.get("seconds") < bestSeconds) {
        bestSeconds = (double) r.get("seconds");
        best = (String) r.get("format");
      }
    }
    System.out.printf("fastest at %,d examples: %s%n", SIZES[SIZES.length - 1], best);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("machine", BenchEnvironment.machine());
    out.put(LARGEST_KEY, best);
    out.put("max_frame_bytes", MAX_FRAME_BYTES);
    out.put("rows", rows);
    Files.createDirectories(env.results());
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(env.results().resolve("optimize-transfer.json").toFile(), out);
  }

  /** One format at one size, on a fresh worker. */
  private static Map<String, Object> row(WorkerConfig config, List<Map<String, Object>> examples, String name,
      FormatChoice format) throws Exception {
    int reps = examples.size() <= SMALL ? SMALL_REPS : 1;
    double[] seconds = new double[reps];
    long bytes = 0;
    Map<String, Object> last = null;
    double idle;
    double peak;
    try (WorkerPool pool = WorkerPool.create(config)) {
      long pid = pool.pids().get(0);
      idle = vmHwmMib(pid);
      hold(pool, examples.subList(0, Math.min(WARMUP, examples.size())), format);
      for (int i = 0; i < reps; i++) {
        long before = sentBytes(pool.stats());
        long t0 = System.nanoTime();
        Message m = hold(pool, examples, format);
        seconds[i] = (System.nanoTime() - t0) / 1e9;
        bytes = sentBytes(pool.stats()) - before;
        last = m.resultMap();
      }
      peak = vmHwmMib(pid);
    }
    Arrays.sort(seconds);
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("examples", examples.size());
    row.put("format", name);
    row.put("bytes", bytes);
    row.put("seconds", round(seconds[reps / 2]));
    row.put("worker_peak_rss_mib", Math.round(peak));
    row.put("worker_idle_rss_mib", Math.round(idle));
    row.put("content_format", last.get("format"));
    row.put("worker_decode_s", ((Number) last.get("decode_s")).doubleValue());
    row.put("worker_examples_s", ((Number) last.get("examples_s")).doubleValue());
    row.put("timed_requests", reps);
    return row;
  }

  private static Message hold(WorkerPool pool, List<Map<String, Object>> examples, FormatChoice format)
      throws Exception {
    Message m = pool.call(Request.of("hold_examples").withArg("inputs", INPUTS).withArg("labels", LABELS)
        .withBody("trainset", examples, format));
    if (!m.success() || ((Number) m.resultMap().get("n")).intValue() != examples.size()) {
      throw new IllegalStateException("the worker did not hold the " + examples.size() + " examples: " + m);
    }
    return m;
  }

  /** Body bytes sent so far, over every format and REF. */
  private static long sentBytes(WorkerStats stats) {
    long total = 0;
    for (ContentFormat f : ContentFormat.values()) {
      total += stats.bytesSent(f);
    }
    return total + stats.refBytesSent();
  }

  /** The process's peak resident set ({@code VmHWM}), in MiB. */
  static double vmHwmMib(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    throw new IllegalStateException("no VmHWM in /proc/" + pid + "/status");
  }

  /**
   * {@code n} examples: a distinct question each, an answer and three context passages of about 70
   * characters from pools (so the JVM holds a million of them in little memory; the bytes on the
   * wire and the Python objects are the same as for distinct ones), about 290 bytes each as JSON.
   */
  static List<Map<String, Object>> examples(int n) {
    String[] passages = new String[997];
    for (int i = 0; i < passages.length; i++) {
      passages[i] = "Passage " + i + ": the river of region " + (i * 7 % 101) + " flows north past the old mill.";
    }
    String[] answers = new String[500];
    for (int i = 0; i < answers.length; i++) {
      answers[i] = "Capital city " + i;
    }
    List<Map<String, Object>> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("question", "Question " + i + ": what is the capital of country " + (i % 500) + "?");
      e.put("context", List.of(passages[i % 997], passages[(i * 31 + 7) % 997], passages[(i * 17 + 3) % 997]));
      e.put("answer", answers[i % 500]);
      out.add(e);
    }
    return out;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
