package org.dspex.beam.transforms;

import static org.dspex.beam.transforms.SpecValidationTest.assertRefused;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;

import java.time.Duration;
import java.util.Map;
import org.junit.Test;

/** {@link BatchApi}'s checks and what {@link DSPexPredict#withBatchApi} changes: setup, batch size, timeout. */
public class BatchApiTest {
  @Test
  public void givenBadSettings_thenEachWithRefusesNamingItselfAndTheValue() {
    BatchApi b = BatchApi.openAi();
    assertRefused(() -> b.withPollInterval(Duration.ZERO), "withPollInterval", "PT0S");
    assertRefused(() -> b.withTimeout(Duration.ofSeconds(-1)), "withTimeout", "PT-1S");
    assertRefused(() -> b.withMaxRequestsPerBatch(50_001), "withMaxRequestsPerBatch", "50001");
    assertRefused(() -> b.withMaxBatchBytes(0), "withMaxBatchBytes", "0");
    assertRefused(() -> b.withMaxRounds(0), "withMaxRounds", "0");
    assertRefused(() -> b.withStateFile(" "), "withStateFile");
    assertRefused(() -> DSPexPredict.of("q -> a").withBatchApi(null), "withBatchApi");
  }

  @Test
  public void givenTheDefaults_thenTheSetupMapHoldsEachSettingInTheWorkersUnits() {
    Map<String, Object> m = BatchApi.openAi().setupMap();
    assertEquals("openai", m.get("provider"));
    assertEquals(30.0, m.get("poll_interval_s"));
    assertEquals(86_400.0, m.get("timeout_s"));
    assertEquals(1000, m.get("max_requests_per_batch"));
    assertEquals(100_000_000L, m.get("max_batch_bytes"));
    assertEquals(4, m.get("max_rounds"));
    assertFalse(m.containsKey("state_file"));
    assertEquals("/d/o.batches.json",
        BatchApi.openAi().withStateFile("/d/o.batches.json").withPollInterval(Duration.ofMillis(250)).setupMap()
            .get("state_file"));
    assertEquals(0.25, BatchApi.openAi().withPollInterval(Duration.ofMillis(250)).setupMap().get("poll_interval_s"));
  }

  @Test
  public void givenBatchMode_thenRequestsCarryABatchAndTheRequestTimeoutOutlastsEveryRound() {
    DSPexPredict live = DSPexPredict.of("q -> a").withModel("openai/m").withMaxBatchSize(16)
        .withRequestTimeout(Duration.ofMinutes(2));
    assertNull(live.setupArgs().get("batch_api"));
    assertEquals(16, live.batching().maxBatchSize());
    DSPexPredict batch = live.withBatchApi(BatchApi.openAi().withMaxRequestsPerBatch(500)
        .withTimeout(Duration.ofHours(1)).withMaxRounds(3));
    assertEquals(500, batch.batching().maxBatchSize());
    assertEquals(Duration.ofMinutes(2), live.workerConfig().requestTimeout());
    assertEquals(Duration.ofHours(3).plusMinutes(2), batch.workerConfig().requestTimeout());
    @SuppressWarnings("unchecked")
    Map<String, Object> setup = (Map<String, Object>) batch.setupArgs().get("batch_api");
    assertEquals(500, setup.get("max_requests_per_batch"));
  }
}
