package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A direct side of a benchmark: a Python process ({@code bench/py/*_direct.py}) that loads and
 * warms up, says so with a {@code {"phase": "warm", ...}} line, then runs one timed pass for each
 * line written to its stdin and prints each pass's result as a JSON line. The Java side alternates
 * these passes with its own, so a drift of the machine's speed hits both sides alike.
 */
final class DirectPeer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final BufferedReader out;
  private final OutputStream in;
  private final JsonNode warm;

  private DirectPeer(Process process) throws IOException {
    this.process = process;
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    this.in = process.getOutputStream();
    this.warm = next("warming up");
  }

  /** Starts {@code peer}'s script of {@code bench/py} with its interpreter and waits for its warm-up. */
  static DirectPeer start(BenchEnvironment env, Peer peer) throws IOException {
    List<String> cmd = new java.util.ArrayList<>(List.of(peer.python().toString(), env.peer(peer.script()).toString()));
    cmd.addAll(peer.args());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("PYTHONPATH", env.root().resolve("python").toString());
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    return new DirectPeer(pb.start());
  }

  /** The warm-up line ({@code load_s}, {@code warmup_s}). */
  JsonNode warm() {
    return warm;
  }

  /** Runs one timed pass and returns its result ({@code seconds}, {@code per_s}, {@code cpu_s}, ...). */
  JsonNode timedPass() throws IOException {
    in.write('\n');
    in.flush();
    return next("a timed pass");
  }

  private JsonNode next(String what) throws IOException {
    String line = out.readLine();
    if (line == null) {
      throw new IOException("the direct peer ended while " + what + " (its stderr is above)");
    }
    return JSON.readTree(line);
  }

  @Override
  public void close() throws Exception {
    in.close();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
