package org.dspex.beam.pipelines.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The loopback OpenAI-compatible LM server ({@code python -m dspex_testing.lm_server}) as
 * a process beside the command under test: deterministic answers in DSPy's chat format (the QA
 * set's known answers), call counts at {@code GET /stats}. Stopped by closing its stdin.
 */
final class LoopbackLm implements AutoCloseable {
  private final Process process;
  private final int port;

  private LoopbackLm(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts a server on a free port; {@code options} as the server takes them (e.g. {@code --rate-malformed 0.2}). */
  static LoopbackLm start(String... options) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Dspex.python().toString(), "-m", "dspex_testing.lm_server",
        "--max-seconds", "1800", "--exit-on-stdin-eof"));
    cmd.addAll(List.of(options));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("PYTHONPATH", Dspex.root().resolve("python/testing").toString());
    Process p = pb.start();
    String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
    Object announced = line == null ? null : Records.parse(line).get("port");
    if (!(announced instanceof Number)) {
      p.destroyForcibly();
      throw new IOException("the loopback LM server did not announce its port: " + line);
    }
    return new LoopbackLm(p, ((Number) announced).intValue());
  }

  /** The OpenAI-style API base for {@code --api-base}. */
  String apiBase() {
    return "http://127.0.0.1:" + port + "/v1";
  }

  /** The server's counters ({@code calls}, {@code chat_calls}, {@code ok}, {@code malformed}, ...). */
  Map<String, Object> stats() throws IOException, InterruptedException {
    return get("/stats");
  }

  /** The chat prompts the server received, oldest first (its last 1,000; {@code GET /prompts}). */
  @SuppressWarnings("unchecked")
  List<String> prompts() throws IOException, InterruptedException {
    return (List<String>) get("/prompts").get("prompts");
  }

  /** The chat requests the server saw more than once: {@code first_answer_s}, {@code calls}. */
  @SuppressWarnings("unchecked")
  List<Map<String, Object>> repeats() throws IOException, InterruptedException {
    return (List<Map<String, Object>>) get("/repeats").get("repeats");
  }

  private Map<String, Object> get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    return Records.parse(r.body());
  }

  /** The server's Batch API counters ({@code files_uploaded}, {@code batches_created}, {@code batch_requests}, ...). */
  @SuppressWarnings("unchecked")
  Map<String, Object> batchStats() throws IOException, InterruptedException {
    return (Map<String, Object>) stats().get("batch");
  }

  /** One Batch API counter ({@link #batchStats()}) as a number. */
  long batchCount(String name) throws IOException, InterruptedException {
    return ((Number) batchStats().get(name)).longValue();
  }

  /** Chat completions the server answered or refused so far. */
  long chatCalls() throws IOException, InterruptedException {
    return ((Number) stats().get("chat_calls")).longValue();
  }

  @Override
  public void close() throws Exception {
    process.getOutputStream().close();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
