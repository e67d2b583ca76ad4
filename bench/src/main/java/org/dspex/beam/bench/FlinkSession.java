package org.dspex.beam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The repository's real Flink session cluster ({@code cluster/flink-cluster}) for a benchmark: one
 * JobManager and two TaskManagers as their own JVMs on free ports, pids and logs in a work folder;
 * the TaskManagers' pids (to sample them), a kill and a replacement, and the records a running
 * job's model step has taken in, from the REST endpoint's live vertex counts.
 */
final class FlinkSession implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final BenchEnvironment env;
  private final Path dir;
  private final Map<String, String> vars;
  private final int restPort;
  private final HttpClient http = HttpClient.newHttpClient();

  private FlinkSession(BenchEnvironment env, Path dir, Map<String, String> vars, int restPort) {
    this.env = env;
    this.dir = dir;
    this.vars = vars;
    this.restPort = restPort;
  }

  /** Starts the cluster with its files in {@code dir}; returns when both TaskManagers have registered. */
  static FlinkSession start(BenchEnvironment env, Path dir) throws IOException, InterruptedException {
    int rest = freePort();
    Map<String, String> vars = new LinkedHashMap<>();
    vars.put("DSPEX_FLINK_DIR", dir.toString());
    vars.put("DSPEX_FLINK_REST_PORT", Integer.toString(rest));
    vars.put("DSPEX_FLINK_RPC_PORT", Integer.toString(freePort()));
    vars.put("DSPEX_FLINK_BLOB_PORT", Integer.toString(freePort()));
    vars.put("DSPEX_FLINK_TASKMANAGERS", "2");
    FlinkSession s = new FlinkSession(env, dir, vars, rest);
    Runtime.getRuntime().addShutdownHook(new Thread(s::close, "flink-session-stop"));
    s.script("start");
    return s;
  }

  /** {@code --flink-master} for the command. */
  String master() {
    return "127.0.0.1:" + restPort;
  }

  /** The pids of the TaskManagers running now. */
  List<Long> taskManagerPids() {
    List<Long> pids = new ArrayList<>();
    try (var files = Files.list(dir.resolve("logs"))) {
      for (Path f : files.filter(p -> p.getFileName().toString().matches("taskmanager-.*\\.pid")).toList()) {
        long pid = Long.parseLong(Files.readString(f).trim());
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          pids.add(pid);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // A pid file being written or removed: the next sample sees it.
    }
    return pids;
  }

  /** {@code kill -9} of a TaskManager: what a lost machine looks like. */
  void killTaskManager(String name) throws IOException, InterruptedException {
    script("kill-tm", name);
  }

  /** One more TaskManager; returns when it has registered. */
  void startTaskManager(String name) throws IOException, InterruptedException {
    script("start-tm", name);
  }

  /**
   * Records the running job's model step has taken in so far (Flink's live {@code read-records} of
   * the vertex whose name holds {@code step}; Beam's own metrics reach Flink only when a batch
   * task ends); -1 while no job runs.
   */
  long recordsInto(String step) throws IOException, InterruptedException {
    for (JsonNode job : rest("/jobs/overview").path("jobs")) {
      if (!"RUNNING".equals(job.path("state").asText())) {
        continue;
      }
      long in = 0;
      boolean found = false;
      for (JsonNode v : rest("/jobs/" + job.path("jid").asText()).path("vertices")) {
        if (v.path("name").asText().contains(step)) {
          in += v.path("metrics").path("read-records").asLong();
          found = true;
        }
      }
      return found ? in : -1;
    }
    return -1;
  }

  /** The failures the latest job recovered from (Flink's exception history). */
  int recoveredFailuresOfLatestJob() throws IOException, InterruptedException {
    String latest = null;
    long latestStart = -1;
    for (JsonNode job : rest("/jobs/overview").path("jobs")) {
      if (job.path("start-time").asLong() > latestStart) {
        latestStart = job.path("start-time").asLong();
        latest = job.path("jid").asText();
      }
    }
    return latest == null ? 0 : rest("/jobs/" + latest + "/exceptions").path("exceptionHistory").path("entries").size();
  }

  private JsonNode rest(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + path))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(r.body());
  }

  private void script(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(env.root().resolve("cluster/flink-cluster").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolveSibling(dir.getFileName() + ".script.log").toFile()));
    pb.environment().putAll(vars);
    Process p = pb.start();
    if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException("cluster/flink-cluster " + String.join(" ", args) + " failed; see "
          + dir.resolveSibling(dir.getFileName() + ".script.log") + " and " + dir.resolve("logs"));
    }
  }

  @Override
  public void close() {
    try {
      script("stop");
    } catch (IOException | InterruptedException e) {
      // Stopping at exit anyway; the folder's pid files name what may still run.
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
