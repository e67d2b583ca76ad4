package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The loopback OpenAI-compatible LM server ({@code python -m dspex_testing.lm_server}) as a child
 * process of the benchmark: started on a free port, stopped when its stdin closes.
 */
final class LoopbackServer implements AutoCloseable {
  private final Process process;
  private final String base;
  private final HttpClient http = HttpClient.newHttpClient();
  private final ObjectMapper json = new ObjectMapper();

  private LoopbackServer(Process process, String base) {
    this.process = process;
    this.base = base;
  }

  /**
   * Starts the server with {@code latencyMs} per call (0: none), for at most {@code maxSeconds}, with
   * {@code more} of its options (e.g. {@code --batch-delay-s 1}).
   */
  static LoopbackServer start(BenchEnvironment env, int latencyMs, int maxSeconds, String... more) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(env.python().toString(), "-m", "dspex_testing.lm_server",
        "--latency-ms", Integer.toString(latencyMs), "--max-seconds", Integer.toString(maxSeconds),
        "--exit-on-stdin-eof"));
    cmd.addAll(List.of(more));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("PYTHONPATH", env.root().resolve("python/testing").toString());
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    Matcher m = line == null ? null : Pattern.compile("\"port\"\\s*:\\s*(\\d+)").matcher(line);
    if (m == null || !m.find()) {
      p.destroyForcibly();
      throw new IllegalStateException("the loopback LM server did not announce its port: " + line);
    }
    return new LoopbackServer(p, "http://127.0.0.1:" + m.group(1));
  }

  /** {@code http://127.0.0.1:PORT}. */
  String base() {
    return base;
  }

  /** The OpenAI-compatible base URL, {@code .../v1}. */
  String apiBase() {
    return base + "/v1";
  }

  /** The server's counters ({@code GET /stats}). */
  JsonNode stats() throws Exception {
    return get("/stats");
  }

  /** The chat prompts it received, oldest first ({@code GET /prompts}). */
  List<String> prompts() throws Exception {
    List<String> out = new ArrayList<>();
    get("/prompts").get("prompts").forEach(p -> out.add(p.asText()));
    return out;
  }

  /** Zeroes the counters and forgets the prompts ({@code POST /reset}). */
  void reset() throws Exception {
    http.send(HttpRequest.newBuilder(URI.create(base + "/reset")).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode get(String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    return json.readTree(r.body());
  }

  @Override
  public void close() throws Exception {
    process.getOutputStream().close();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
