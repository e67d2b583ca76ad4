package org.dspex.beam.connector.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.protocol.Message;
import org.dspex.beam.connector.protocol.ProtocolSettings;
import org.dspex.beam.connector.protocol.Request;
import org.junit.jupiter.api.Test;

/** Settings a worker is started with reach it, on real worker processes. */
class WorkerSettingsTest {
  @Test
  void givenEnv_thenTheWorkerSeesItAndToStringShowsIt() throws Exception {
    WorkerConfig config = WorkerTestSupport.config().withEnv("DSPEX_PLAIN_SETTING", "plain value");
    try (WorkerPool pool = WorkerPool.create(config)) {
      Message m = pool.call(Request.of("env").withArg("names", List.of("DSPEX_PLAIN_SETTING")));
      assertEquals("plain value", m.resultMap().get("DSPEX_PLAIN_SETTING"));
    }
    assertTrue(config.toString().contains("DSPEX_PLAIN_SETTING=plain value"), config.toString());
  }

  @Test
  void givenQueueCapacityOfOne_thenCallersWaitForRoomAndEveryRequestIsAnswered() throws Exception {
    try (PythonWorker w = PythonWorker.start(WorkerTestSupport.config().withQueueCapacity(1), 1, new WorkerStats())) {
      List<CompletableFuture<Message>> answers = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        answers.add(w.submit(Request.of("echo").withArg("i", i)));
      }
      for (int i = 0; i < 50; i++) {
        assertEquals((long) i, ((Map<?, ?>) answers.get(i).get(10, TimeUnit.SECONDS).result()).get("i"));
      }
    }
  }

  @Test
  void givenProtocolSettings_thenBothSidesSpillBodiesFromTheirRefThreshold() throws Exception {
    WorkerStats stats = new WorkerStats();
    WorkerConfig config = WorkerTestSupport.config().withProtocolSettings(ProtocolSettings.defaults().withRefMinBytes(1024));
    try (PythonWorker w = PythonWorker.start(config, 1, stats)) {
      NdArray a = NdArray.ofFloats(new float[4096]);
      assertEquals(a, w.submit(Request.of("echo").withBody("data", a)).get(10, TimeUnit.SECONDS).body("data"));
      // 16 KiB is over the 1 KiB threshold: out and back as REF files, not NUMPY frames.
      assertTrue(stats.refBytesSent() >= 16384, "sent as REF: " + stats.refBytesSent());
      assertTrue(stats.refBytesReceived() >= 16384,
          "received as REF: " + stats.refBytesReceived());
      assertEquals(0, stats.bytesSent(ContentFormat.NUMPY));
    }
  }
}
