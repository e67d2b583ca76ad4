package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ArrowTable;
import org.dspex.beam.connector.codec.Codec;
import org.dspex.beam.connector.codec.Codecs;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.protocol.ProtocolSettings;

/**
 * {@code bench/run codecs}: for each batch shape and format, Java encode, Python decode into what
 * a handler uses, Python encode of a same-shaped result, Java decode into one target for every
 * format ({@code List<Map>} for records, {@code float[][]} for the matrix). Prints a table, writes
 * {@code bench/results/codecs.json}, and checks AUTO's pick against the fastest measured format.
 */
final class CodecBench {
  /** The sizes the issue asks for, plus 1 and 3 to find where JSON stops paying. */
  static final int[] RECORD_COUNTS = {1, 3, 10, 100, 1_000, 10_000, 100_000};
  /** Every format of the codec registry that carries records. */
  static final List<ContentFormat> RECORD_FORMATS =
      Arrays.stream(ContentFormat.values()).filter(ContentFormat::carriesRecords).toList();
  static final int MATRIX_ROWS = 1_000;
  static final int MATRIX_DIM = 384;
  /** Every format of the codec registry: each carries a matrix in its own shape ({@link #encode}). */
  static final List<ContentFormat> MATRIX_FORMATS = List.of(ContentFormat.values());
  /** AUTO's pick must be within 10% of the fastest total, or 0.05 ms, whichever is larger. */
  static final double AUTO_TOLERANCE = 0.10;
  static final double AUTO_TOLERANCE_MS = 0.05;

  private final BenchEnvironment env;
  private final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  CodecBench(BenchEnvironment env) {
    this.env = env;
  }

  void run() throws Exception {
    Path work = env.work("codecs");
    List<Map<String, Object>> cases = new ArrayList<>();
    try (Codecs codecs = Codecs.create()) {
      for (int n : RECORD_COUNTS) {
        List<Map<String, Object>> records = BenchData.records(n);
        for (ContentFormat format : RECORD_FORMATS) {
          cases.add(encodeCase(work, codecs, "records", n, 0, format, records));
        }
      }
      float[][] matrix = BenchData.matrix(MATRIX_ROWS, MATRIX_DIM);
      for (ContentFormat format : MATRIX_FORMATS) {
        cases.add(encodeCase(work, codecs, "vectors", MATRIX_ROWS, MATRIX_DIM, format, matrix));
      }
      mapper.writeValue(work.resolve("plan.json").toFile(), planOf(cases));

      runPythonPeer(work);
      List<?> python = mapper.readValue(work.resolve("python.json").toFile(), List.class);
      for (int i = 0; i < cases.size(); i++) {
        Map<?, ?> timings = (Map<?, ?>) python.get(i);
        Map<String, Object> c = cases.get(i);
        c.put("python_decode_ms", ((Number) timings.get("python_decode_ms")).doubleValue());
        c.put("python_encode_ms", ((Number) timings.get("python_encode_ms")).doubleValue());
        decodeResult(work, codecs, c);
      }
    }
    for (Map<String, Object> c : cases) {
      c.put(
          "total_ms",
          (double) c.get("java_encode_ms")
              + (double) c.get("python_decode_ms")
              + (double) c.get("python_encode_ms")
              + (double) c.get("java_decode_ms"));
    }
    List<Map<String, Object>> auto = autoPicks(cases);

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("machine", BenchEnvironment.machine());
    out.put("settings", ProtocolSettings.defaults().toString());
    out.put("cases", publicView(cases));
    out.put("auto", auto);
    Map<String, Object> crossover = crossover(cases);
    out.put("crossover", crossover);
    Files.createDirectories(env.results());
    mapper.writeValue(env.results().resolve("codecs.json").toFile(), out);
    printTable(cases, auto);
    System.out.println();
    System.out.println("measured crossover (records): " + crossover);
  }

  /**
   * Where the record formats cross, from this run: JSON is within tolerance of the fastest at
   * every size up to {@code json_within_up_to}; Arrow at every size from {@code
   * arrow_within_from} on (absent where that never holds). AUTO's defaults come from these.
   */
  private static Map<String, Object> crossover(List<Map<String, Object>> cases) {
    Map<Integer, Map<String, Double>> totals = new java.util.TreeMap<>();
    for (Map<String, Object> c : cases) {
      if (c.get("case").equals("records")) {
        totals
            .computeIfAbsent((int) c.get("n"), k -> new LinkedHashMap<>())
            .put((String) c.get("format"), (double) c.get("total_ms"));
      }
    }
    Integer jsonUpTo = null;
    for (Map.Entry<Integer, Map<String, Double>> e : totals.entrySet()) {
      if (!within(e.getValue(), "json")) {
        break;
      }
      jsonUpTo = e.getKey();
    }
    Integer arrowFrom = null;
    for (Map.Entry<Integer, Map<String, Double>> e :
        ((java.util.TreeMap<Integer, Map<String, Double>>) totals).descendingMap().entrySet()) {
      if (!within(e.getValue(), "arrow")) {
        break;
      }
      arrowFrom = e.getKey();
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("json_within_up_to", jsonUpTo);
    result.put("arrow_within_from", arrowFrom);
    return result;
  }

  private static boolean within(Map<String, Double> totals, String format) {
    double best = totals.values().stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    return totals.get(format) <= best + Math.max(best * AUTO_TOLERANCE, AUTO_TOLERANCE_MS);
  }

  private Map<String, Object> encodeCase(
      Path work, Codecs codecs, String kind, int n, int dim, ContentFormat format, Object data)
      throws Exception {
    Timer.Measured<ByteBuffer> encoded =
        Timer.median(() -> encode(codecs, kind, format, data));
    String file = kind + "-" + n + "." + format.wireName();
    ByteBuffer bytes = encoded.value();
    Files.write(work.resolve(file), toArray(bytes));
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("case", kind);
    c.put("n", n);
    c.put("dim", dim);
    c.put("format", format.wireName());
    c.put("file", file);
    c.put("bytes", bytes.remaining());
    c.put("java_encode_ms", encoded.medianMillis());
    return c;
  }

  /**
   * Encodes the data of a case in {@code format}; a matrix goes in the shape the format carries: a
   * numeric array, a table of one {@code vector} column, or a list of lists.
   */
  private static ByteBuffer encode(Codecs codecs, String kind, ContentFormat format, Object data)
      throws Exception {
    Codec codec = codecs.forFormat(format);
    if (kind.equals("records")) {
      return codec.encode(data);
    }
    float[][] matrix = (float[][]) data;
    switch (format.carries()) {
      case NUMERIC_ARRAYS:
        return codec.encode(NdArray.ofFloats(matrix));
      case RECORDS:
        List<Map<String, Object>> rows = new ArrayList<>(matrix.length);
        for (float[] row : matrix) {
          rows.add(Map.of("vector", boxed(row)));
        }
        return codec.encode(rows);
      default:
        List<Object> lists = new ArrayList<>(matrix.length);
        for (float[] row : matrix) {
          lists.add(boxed(row));
        }
        return codec.encode(lists);
    }
  }

  private void decodeResult(Path work, Codecs codecs, Map<String, Object> c) throws Exception {
    ContentFormat format = ContentFormat.ofWireName((String) c.get("format"));
    byte[] bytes = Files.readAllBytes(work.resolve(c.get("file") + ".result"));
    boolean records = c.get("case").equals("records");
    int n = (int) c.get("n");
    Timer.Measured<Integer> decoded =
        Timer.median(
            () -> {
              ByteBuffer payload = ByteBuffer.wrap(bytes);
              return records
                  ? toRecords(codecs, format, payload).size()
                  : toMatrix(codecs, format, payload).length;
            });
    if (decoded.value() != n) {
      throw new IllegalStateException("decoded " + decoded.value() + " of " + n + " for " + c);
    }
    c.put("java_decode_ms", decoded.medianMillis());
  }

  /** Decoded records: a table's rows, or the list itself. */
  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> toRecords(
      Codecs codecs, ContentFormat format, ByteBuffer payload) throws Exception {
    Object decoded = codecs.forFormat(format).decode(payload);
    return decoded instanceof ArrowTable
        ? ((ArrowTable) decoded).records()
        : (List<Map<String, Object>>) decoded;
  }

  /** A decoded matrix, whatever shape its format carries it in. */
  private static float[][] toMatrix(Codecs codecs, ContentFormat format, ByteBuffer payload)
      throws Exception {
    Object decoded = codecs.forFormat(format).decode(payload);
    if (decoded instanceof NdArray) {
      return ((NdArray) decoded).toFloatMatrix();
    }
    if (decoded instanceof ArrowTable) {
      ArrowTable table = (ArrowTable) decoded;
      return toFloats(table.column(table.columnNames().get(0)));
    }
    return toFloats((List<?>) decoded);
  }

  private static float[][] toFloats(List<?> rows) {
    float[][] matrix = new float[rows.size()][];
    for (int i = 0; i < matrix.length; i++) {
      List<?> row = (List<?>) rows.get(i);
      float[] values = new float[row.size()];
      for (int j = 0; j < values.length; j++) {
        values[j] = ((Number) row.get(j)).floatValue();
      }
      matrix[i] = values;
    }
    return matrix;
  }

  private static List<Object> boxed(float[] row) {
    List<Object> values = new ArrayList<>(row.length);
    for (float v : row) {
      values.add(v);
    }
    return values;
  }

  private static byte[] toArray(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  private static List<Map<String, Object>> planOf(List<Map<String, Object>> cases) {
    List<Map<String, Object>> plan = new ArrayList<>();
    for (Map<String, Object> c : cases) {
      Map<String, Object> entry = new LinkedHashMap<>();
      for (String key : List.of("case", "n", "dim", "format", "file")) {
        entry.put(key, c.get(key));
      }
      plan.add(entry);
    }
    return plan;
  }

  private static List<Map<String, Object>> publicView(List<Map<String, Object>> cases) {
    List<Map<String, Object>> view = new ArrayList<>();
    for (Map<String, Object> c : cases) {
      Map<String, Object> row = new LinkedHashMap<>();
      for (String key :
          List.of(
              "case", "n", "format", "bytes", "java_encode_ms", "python_decode_ms",
              "python_encode_ms", "java_decode_ms", "total_ms")) {
        row.put(key, c.get(key));
      }
      view.add(row);
    }
    return view;
  }

  /** What AUTO picks for each measured shape, and how far that is from the fastest format. */
  private static List<Map<String, Object>> autoPicks(List<Map<String, Object>> cases) {
    Map<String, List<Map<String, Object>>> byShape = new LinkedHashMap<>();
    for (Map<String, Object> c : cases) {
      byShape.computeIfAbsent(c.get("case") + "/" + c.get("n"), k -> new ArrayList<>()).add(c);
    }
    List<Map<String, Object>> picks = new ArrayList<>();
    for (List<Map<String, Object>> shape : byShape.values()) {
      Map<String, Object> first = shape.get(0);
      String kind = (String) first.get("case");
      int n = (int) first.get("n");
      String picked = AutoPick.pick(kind, n, ProtocolSettings.defaults()).wireName();
      Map<String, Object> fastest = shape.get(0);
      Map<String, Object> chosen = null;
      for (Map<String, Object> c : shape) {
        if ((double) c.get("total_ms") < (double) fastest.get("total_ms")) {
          fastest = c;
        }
        if (c.get("format").equals(picked)) {
          chosen = c;
        }
      }
      double best = (double) fastest.get("total_ms");
      double got = chosen == null ? Double.NaN : (double) chosen.get("total_ms");
      boolean within = got <= best + Math.max(best * AUTO_TOLERANCE, AUTO_TOLERANCE_MS);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("case", kind);
      row.put("n", n);
      row.put("format", picked);
      row.put("fastest", fastest.get("format"));
      row.put("auto_total_ms", got);
      row.put("fastest_total_ms", best);
      row.put("within_tolerance", within);
      picks.add(row);
    }
    return picks;
  }

  private static void printTable(List<Map<String, Object>> cases, List<Map<String, Object>> auto) {
    System.out.printf(
        "%-8s %7s %-8s %12s %10s %10s %10s %10s %10s%n",
        "case", "n", "format", "bytes", "j_enc_ms", "py_dec_ms", "py_enc_ms", "j_dec_ms",
        "total_ms");
    for (Map<String, Object> c : cases) {
      System.out.printf(
          "%-8s %7d %-8s %12d %10.3f %10.3f %10.3f %10.3f %10.3f%n",
          c.get("case"), c.get("n"), c.get("format"), c.get("bytes"), c.get("java_encode_ms"),
          c.get("python_decode_ms"), c.get("python_encode_ms"), c.get("java_decode_ms"),
          c.get("total_ms"));
    }
    System.out.println();
    System.out.printf(
        "%-8s %7s %-8s %-8s %12s %12s %s%n",
        "case", "n", "auto", "fastest", "auto_ms", "fastest_ms", "within 10%/0.05ms");
    for (Map<String, Object> a : auto) {
      System.out.printf(
          "%-8s %7d %-8s %-8s %12.3f %12.3f %s%n",
          a.get("case"), a.get("n"), a.get("format"), a.get("fastest"), a.get("auto_total_ms"),
          a.get("fastest_total_ms"), a.get("within_tolerance"));
    }
  }

  private void runPythonPeer(Path work) throws Exception {
    Process process =
        new ProcessBuilder(env.python().toString(), env.peer("codecs_peer.py").toString(), work.toString())
            .inheritIO()
            .start();
    int code = process.waitFor();
    if (code != 0) {
      throw new IllegalStateException("codecs_peer.py exited with " + code);
    }
  }
}
