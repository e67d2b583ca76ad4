package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * {@link DSPexPredict#withBatchApi} on the DirectRunner against the loopback server's Batch API:
 * answers through a batch, no live call, the failed request alone in the failures, the batch
 * recorded in the state file.
 */
public class BatchApiPipelineTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void givenBatchMode_thenAnswersComeThroughOneBatchAndTheFailedRequestFailsAlone() throws Exception {
    Path state = tmp.getRoot().toPath().resolve("out.batches.json");
    try (LoopbackLmServer server = LoopbackLmServer.start("--batch-delay-s", "0.5")) {
      DSPexResult r = p.apply(Create.of(
              KV.of("qa-001", "What is the capital of France?"),
              KV.of("qa-002", "What is the capital of Japan?"),
              KV.of("bad", "Fail me __DSPEX_500__")))
          .apply(DSPexPredict.of("question -> answer")
              .withModel("openai/loopback")
              .withApiBase(server.apiBase())
              .withApiKeyEnv("DSPEX_TEST_SECRET")
              .withCache(false)
              .withPython(TestSupport.python())
              .withBatchApi(BatchApi.openAi().withPollInterval(Duration.ofMillis(100))
                  .withStateFile(state.toString())));
      PAssert.that(r.output().apply("Answers", MapElements.into(TypeDescriptors.strings())
              .via(x -> x.getString("key") + "=" + x.getString("answer"))))
          .containsInAnyOrder("qa-001=Paris", "qa-002=Tokyo");
      PAssert.that(r.failures()).satisfies(fs -> {
        List<Row> l = new ArrayList<>();
        fs.forEach(l::add);
        assertEquals(1, l.size());
        assertTrue(l.get(0).getString("element"), l.get(0).getString("element").contains("\"key\":\"bad\""));
        assertEquals("BatchRequestFailed", l.get(0).getString("error_type"));
        assertTrue(l.get(0).getString("message"), l.get(0).getString("message").contains("HTTP 500"));
        return null;
      });
      p.run().waitUntilFinish();
      assertEquals(0, server.chatCalls());
      @SuppressWarnings("unchecked")
      Map<String, Object> batch = (Map<String, Object>) server.stats().get("batch");
      assertEquals(3, ((Number) batch.get("batch_requests")).intValue());
      assertEquals(((Number) batch.get("batches_created")).intValue(), ((Number) batch.get("files_uploaded")).intValue());
      assertTrue(Files.readString(state).contains("\"format\":\"dspex-batches\""));
    }
  }
}
