package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.codec.NpyDtype;
import org.dspex.beam.connector.protocol.Connection;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.ProtocolSettings;
import org.dspex.beam.connector.protocol.ProtocolVersion;
import org.dspex.beam.connector.protocol.Request;
import org.dspex.beam.connector.protocol.SpillDirectory;

/**
 * {@code bench/run transport}: bulk float32 bodies Java -> Python -> Java as NUMPY frames and as
 * REF frames, against the raw pipe (the same bytes through the same kind of pipe, no framing) in
 * the same run. Python reads every byte (a checksum) and answers with a new body of the same size;
 * Java checksums the answer too. Throughput counts both directions: 2 x size / round-trip time.
 */
final class TransportBench {
  static final int[] SIZES_MIB = {64, 512};
  /** 512 MiB bodies are above the default 256 MiB frame limit: this run raises it, and says so. */
  static final int MAX_FRAME_BYTES = 1 << 30;
  static final int REPS = 5;

  private final BenchEnvironment env;

  TransportBench(BenchEnvironment env) {
    this.env = env;
  }

  void run() throws Exception {
    System.out.printf(
        "max_frame_bytes raised to %d for this run (default %d): the 512 MiB rows need it%n",
        MAX_FRAME_BYTES, ProtocolSettings.DEFAULT_MAX_FRAME_BYTES);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int mib : SIZES_MIB) {
      long bytes = (long) mib << 20;
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("mib", mib);
      row.put("raw_pipe_gbps", rawPipe((int) bytes));
      row.put("numpy_frame_gbps", protocol((int) bytes, FormatChoice.forced(ContentFormat.NUMPY)));
      row.put("ref_gbps", protocol((int) bytes, FormatChoice.REF));
      rows.add(row);
      System.out.printf(
          "%4d MiB  raw pipe %6.3f GB/s   numpy frame %6.3f GB/s (%3.0f%%)   ref %6.3f GB/s (%3.0f%%)%n",
          mib,
          row.get("raw_pipe_gbps"),
          row.get("numpy_frame_gbps"),
          100 * (double) row.get("numpy_frame_gbps") / (double) row.get("raw_pipe_gbps"),
          row.get("ref_gbps"),
          100 * (double) row.get("ref_gbps") / (double) row.get("raw_pipe_gbps"));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("machine", BenchEnvironment.machine());
    out.put("max_frame_bytes", MAX_FRAME_BYTES);
    out.put("reps", REPS);
    out.put("rows", rows);
    Files.createDirectories(env.results());
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(env.results().resolve("transport.json").toFile(), out);
  }

  /** Best of REPS round trips through a plain pipe: write size bytes, read size new bytes. */
  private double rawPipe(int size) throws Exception {
    Process process = peer("raw", Integer.toString(size));
    byte[] body = payload(size).array();
    byte[] answer = new byte[size];
    double best = Double.MAX_VALUE;
    try (OutputStream toPeer = process.getOutputStream();
        InputStream fromPeer = process.getInputStream()) {
      for (int rep = 0; rep <= REPS; rep++) {
        long t0 = System.nanoTime();
        Thread writer =
            new Thread(
                () -> {
                  try {
                    toPeer.write(body);
                    toPeer.flush();
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
        writer.start();
        int got = 0;
        while (got < size) {
          int n = fromPeer.read(answer, got, size - got);
          if (n < 0) {
            throw new IllegalStateException("raw peer closed after " + got + " bytes");
          }
          got += n;
        }
        writer.join();
        checksum(ByteBuffer.wrap(answer));
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (rep > 0) {
          best = Math.min(best, seconds);
        }
      }
    }
    process.waitFor();
    return 2.0 * size / best / 1e9;
  }

  /** Best of REPS protocol round trips with the body forced to {@code format}. */
  private double protocol(int size, FormatChoice format) throws Exception {
    Process process = peer("protocol");
    ProtocolSettings settings = ProtocolSettings.defaults().withMaxFrameBytes(MAX_FRAME_BYTES);
    double best = Double.MAX_VALUE;
    try (SpillDirectory spill = SpillDirectory.create();
        Connection connection =
            new Connection(
                process.getInputStream(),
                process.getOutputStream(),
                "transport peer",
                settings,
                spill)) {
      connection.hello();
      if (connection.protocolVersion() != ProtocolVersion.V2) {
        throw new IllegalStateException("transport peer did not negotiate V2");
      }
      NdArray body = NdArray.of(NpyDtype.FLOAT32, new long[] {size / 4}, payload(size));
      for (int rep = 0; rep <= REPS; rep++) {
        long t0 = System.nanoTime();
        Message response =
            connection.call(Request.of("transport").withBody("data", body, format));
        NdArray answer = (NdArray) response.body("data");
        checksum(answer.data());
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!response.success() || answer.size() != size / 4) {
          throw new IllegalStateException("bad transport answer: " + response);
        }
        if (rep > 0) {
          best = Math.min(best, seconds);
        }
      }
      connection.call(Request.of("shutdown"));
    }
    process.waitFor();
    return 2.0 * size / best / 1e9;
  }

  private Process peer(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(env.python().toString());
    command.add(env.peer("transport_peer.py").toString());
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static ByteBuffer payload(int size) {
    ByteBuffer buffer = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < size / 4; i++) {
      buffer.putFloat(i * 4, (i % 1000) * 0.001f);
    }
    return buffer;
  }

  /** Touches every byte, as the Python side does. */
  private static long checksum(ByteBuffer data) {
    ByteBuffer view = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    long sum = 0;
    while (view.remaining() >= 8) {
      sum += view.getLong();
    }
    while (view.hasRemaining()) {
      sum += view.get();
    }
    return sum;
  }
}
