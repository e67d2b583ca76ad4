package org.dspex.beam.pipelines.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real Flink session cluster for a test ({@code cluster/flink-cluster}): one JobManager and two
 * TaskManagers as their own JVMs, on free ports, its pids, logs and temp files in a folder of the
 * test. Stopped by {@link #close()}, which stops only its own processes.
 */
final class FlinkCluster implements AutoCloseable {
  /** The API key variable set in the TaskManagers' environment. */
  static final String API_KEY_ENV = "LOOPBACK_KEY";
  private final Path dir;
  private final Map<String, String> env;
  private final int restPort;

  private FlinkCluster(Path dir, Map<String, String> env, int restPort) {
    this.dir = dir;
    this.env = env;
    this.restPort = restPort;
  }

  /** Starts the cluster in {@code dir}; returns when both TaskManagers have registered. */
  static FlinkCluster start(Path dir) throws IOException, InterruptedException {
    int rest = freePort();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("DSPEX_FLINK_DIR", dir.toString());
    env.put("DSPEX_FLINK_REST_PORT", Integer.toString(rest));
    env.put("DSPEX_FLINK_RPC_PORT", Integer.toString(freePort()));
    env.put("DSPEX_FLINK_BLOB_PORT", Integer.toString(freePort()));
    env.put("DSPEX_FLINK_TASKMANAGERS", "2");
    // Secrets stay in the workers' environment: the TaskManagers (and the workers they start) hold
    // the loopback LM's key variable, as a real cluster's machines would hold OPENAI_API_KEY.
    env.put(API_KEY_ENV, "loopback-key");
    FlinkCluster c = new FlinkCluster(dir, env, rest);
    c.script("start").expectExit(0);
    return c;
  }

  /** {@code --flink-master} for the command. */
  String master() {
    return "127.0.0.1:" + restPort;
  }

  /** The pid of a TaskManager this cluster started ({@code taskmanager-1}, ...). */
  long pid(String name) throws IOException {
    return Long.parseLong(Files.readString(dir.resolve("logs").resolve(name + ".pid")).trim());
  }

  /** {@code kill -9} of a TaskManager: what a lost machine looks like to the JobManager. */
  void killTaskManager(String name) throws IOException, InterruptedException {
    script("kill-tm", name).expectExit(0);
  }

  /** Starts one more TaskManager; returns when it has registered. */
  void startTaskManager(String name) throws IOException, InterruptedException {
    script("start-tm", name).expectExit(0);
  }

  /** A JSON answer of the REST endpoint, e.g. {@code /jobs/overview}. */
  Map<String, Object> rest(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + restPort + path)).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    return Records.parse(r.body());
  }

  /** The ids of the jobs the cluster ran or runs, oldest first. */
  @SuppressWarnings("unchecked")
  List<String> jobIds() throws IOException, InterruptedException {
    List<Map<String, Object>> jobs = (List<Map<String, Object>>) rest("/jobs/overview").get("jobs");
    return jobs.stream().sorted((a, b) -> Long.compare(((Number) a.get("start-time")).longValue(),
        ((Number) b.get("start-time")).longValue())).map(j -> (String) j.get("jid")).toList();
  }

  /** The failures a job recovered from (Flink's exception history), newest first. */
  @SuppressWarnings("unchecked")
  List<Map<String, Object>> exceptionHistory(String jobId) throws IOException, InterruptedException {
    Map<String, Object> history = (Map<String, Object>) rest("/jobs/" + jobId + "/exceptions").get("exceptionHistory");
    return (List<Map<String, Object>>) history.get("entries");
  }

  /** A TaskManager's log, for an assertion's message. */
  String log(String name) throws IOException {
    Path log = dir.resolve("logs").resolve(name + ".log");
    return Files.exists(log) ? Files.readString(log) : "(no " + log + ")";
  }

  private Dspex.Run script(String... args) throws IOException, InterruptedException {
    List<String> cmd = new java.util.ArrayList<>(List.of(Dspex.root().resolve("cluster/flink-cluster").toString()));
    cmd.addAll(List.of(args));
    return Dspex.exec(cmd, Dspex.root(), env, Duration.ofMinutes(2));
  }

  @Override
  public void close() throws IOException, InterruptedException {
    script("stop");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
