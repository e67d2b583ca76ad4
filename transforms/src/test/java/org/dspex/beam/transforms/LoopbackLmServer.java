package org.dspex.beam.transforms;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The project's loopback OpenAI-compatible server ({@code python -m dspex_testing.lm_server})
 * for a test: started on a free port, stopped by closing its stdin.
 */
final class LoopbackLmServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final int port;

  private LoopbackLmServer(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static LoopbackLmServer start(String... extraArgs) throws IOException {
    File pythonRoot = new File(System.getProperty("dspex.testdata", "../testdata")).getAbsoluteFile()
        .getParentFile().toPath().resolve("python").toFile();
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(TestSupport.python(), "-m",
        "dspex_testing.lm_server", "--max-seconds", "1800", "--exit-on-stdin-eof"));
    cmd.addAll(java.util.List.of(extraArgs));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(pythonRoot)
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("PYTHONPATH", TestSupport.workerTestingPath());
    Process p = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    Matcher m = line == null ? null : Pattern.compile("\"port\"\\s*:\\s*(\\d+)").matcher(line);
    if (m == null || !m.find()) {
      p.destroyForcibly();
      throw new IOException("the loopback LM server did not announce its port: " + line);
    }
    return new LoopbackLmServer(p, Integer.parseInt(m.group(1)));
  }

  /**
   * The server's counters ({@code GET /stats}): {@code calls}, {@code chat_calls}, {@code ok}, ...,
   * and {@code first_call_s} / {@code last_call_s}, when the first and last call came.
   */
  Map<String, Object> stats() throws IOException {
    return http("GET", "/stats");
  }

  /** The chat prompts the server received, oldest first (its last 1,000; {@code GET /prompts}). */
  @SuppressWarnings("unchecked")
  java.util.List<String> prompts() throws IOException {
    return (java.util.List<String>) http("GET", "/prompts").get("prompts");
  }

  /** Zeroes the counters, forgets call times and prompts ({@code POST /reset}). */
  void reset() throws IOException {
    http("POST", "/reset");
  }

  /** Chat calls received since the start or the last {@link #reset()}. */
  long chatCalls() throws IOException {
    return stat("chat_calls");
  }

  /** One counter of {@link #stats()}, e.g. {@code prompt_tokens}. */
  long stat(String name) throws IOException {
    return ((Number) stats().get(name)).longValue();
  }

  /** The URL of {@code GET /stats}. */
  String statsUrl() {
    return "http://127.0.0.1:" + port + "/stats";
  }

  private Map<String, Object> http(String method, String path) throws IOException {
    HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + path).openConnection();
    try {
      c.setRequestMethod(method);
      c.setConnectTimeout(10_000);
      c.setReadTimeout(10_000);
      if (method.equals("POST")) {
        c.setDoOutput(true);
        c.getOutputStream().close();
      }
      try (InputStream in = c.getInputStream()) {
        return JSON.readValue(in, new TypeReference<Map<String, Object>>() {});
      }
    } finally {
      c.disconnect();
    }
  }

  /** The OpenAI-style base URL, {@code http://127.0.0.1:PORT/v1}. */
  String apiBase() {
    return "http://127.0.0.1:" + port + "/v1";
  }

  @Override
  public void close() throws Exception {
    process.getOutputStream().close();
    if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }

  /** One server for a test class: {@code @ClassRule public static final LoopbackLmServer.Shared LM = new LoopbackLmServer.Shared();}. */
  static final class Shared extends org.junit.rules.ExternalResource {
    private LoopbackLmServer server;

    @Override
    protected void before() throws Throwable {
      server = start();
    }

    @Override
    protected void after() {
      if (server != null) {
        try {
          server.close();
        } catch (Exception e) {
          throw new IllegalStateException("stopping the loopback LM server", e);
        }
      }
    }

    /** The running server. */
    LoopbackLmServer get() {
      return server;
    }
  }
}
