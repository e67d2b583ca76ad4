package org.dspex.beam.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.environment.PythonEnvironment;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.junit.Rule;
import org.junit.Test;

public class SpecValidationTest {
  @Rule public final transient TestPipeline p = TestPipeline.create().enableAbandonedNodeEnforcement(false);

  /** Asserts that {@code r} throws an {@link IllegalArgumentException} whose message has every part. */
  static void assertRefused(Runnable r, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    for (String part : parts) {
      assertThat(e.getMessage(), containsString(part));
    }
  }

  @Test
  public void givenFormatNames_thenAutoByDefaultEachContentFormatForcedAndRecordFormatsListed() {
    List<String> names = DSPexTransform.recordFormatNames();
    assertEquals("auto", names.get(0));
    assertTrue(names.toString(), names.containsAll(List.of("json", "msgpack", "arrow")));
    assertTrue(names.toString(), !names.contains("numpy") && !names.contains("ref"));
    assertEquals(FormatChoice.AUTO, DSPexPredict.of("q -> a").execution().format());
    assertEquals(FormatChoice.AUTO, DSPexEmbed.of("m").withFormat("arrow").withFormat("auto").execution().format());
    for (ContentFormat f : ContentFormat.values()) {
      assertEquals(FormatChoice.forced(f), DSPexPredict.of("q -> a").withFormat(f.wireName()).execution().format());
    }
  }

  @Test
  public void givenBadSettings_thenWithMethodsRefuseNamingMethodAndValue() {
    DSPexPredict t = DSPexPredict.of("q -> a");
    assertRefused(() -> t.withThreads(0), "withThreads", "0");
    assertRefused(() -> t.withTemperature(3.5), "withTemperature", "3.5");
    assertRefused(() -> t.withMaxTokens(-1), "withMaxTokens", "-1");
    assertRefused(() -> t.withNumRetries(-2), "withNumRetries", "-2");
    assertRefused(() -> t.withMaxBatchSize(0), "withMaxBatchSize", "0");
    assertRefused(() -> t.withMaxBatchBytes(0), "withMaxBatchBytes");
    assertRefused(() -> t.withMaxElementBytes(-5), "withMaxElementBytes", "-5");
    assertRefused(() -> t.withMaxAttempts(0), "withMaxAttempts");
    assertRefused(() -> t.withWorkers(0), "withWorkers");
    assertRefused(() -> t.withRequestTimeout(Duration.ZERO), "withRequestTimeout", "PT0S");
    assertRefused(() -> t.withStallTimeout(Duration.ofSeconds(-1)), "withStallTimeout", "PT-1S");
    assertRefused(() -> t.withMaxLmCallsPerSecond(0), "withMaxLmCallsPerSecond");
    assertRefused(() -> t.withTokenBudget(0), "withTokenBudget");
    assertRefused(() -> t.withLmFactory("not a function"), "withLmFactory", "module:function");
    assertRefused(() -> t.withApiBase("localhost:8000"), "withApiBase", "localhost:8000");
    assertRefused(() -> t.withFormat("ref"), "withFormat", "ref");
    assertRefused(() -> t.withFormat("xml"), "withFormat", "unknown format 'xml'", "known: auto, json, msgpack, arrow, numpy");
    assertRefused(() -> DSPexPredict.ofProgram("my_pkg.qa"), "ofProgram", "my_pkg.qa");
    assertRefused(() -> DSPexPredict.of("q -> a: dict"), "dict");
    assertRefused(() -> DSPexEmbed.of(""), "DSPexEmbed.of");
    assertRefused(() -> DSPexEmbed.of("m").withModelBatchSize(0), "withModelBatchSize");
    assertRefused(() -> DSPexEmbed.of("m").withWorkers(-1), "withWorkers", "-1");
    assertRefused(() -> DSPexEmbed.of("m").withPrecision("fp16"), "withPrecision", "[float32, int8]", "'fp16'");
    assertRefused(() -> DSPexEmbed.of("m").withThreadsPerWorker(0), "withThreadsPerWorker", "0");
    assertRefused(() -> t.withProgramArgs(Map.of("k", 1)), "withProgramArgs", "ofProgram");
  }

  @Test
  public void givenSharedSettings_thenEachTransformKeepsItsTypeAndTheWorkerConfigFollows() {
    DSPexEmbed e = DSPexEmbed.of("m").withWorkers(3).withApiKeyEnv("EMBED_KEY").withNormalize(true);
    assertEquals(3, e.workerConfig().workers());
    assertEquals(true, e.setupArgs().get("normalize"));
    assertEquals("EMBED_KEY", e.setupArgs().get("api_key_env"));
    DSPexPredict p = DSPexPredict.ofProgram("my_pkg.qa:build")
        .withProgramArgs(Map.of("teacher", "q -> a", "k", List.of(1, 2)))
        .withWorkers(2)
        .withModel("openai/m");
    assertEquals(2, p.workerConfig().workers());
    assertEquals(Map.of("teacher", "q -> a", "k", List.of(1, 2)), p.setupArgs().get("program_args"));
    // Two transforms of one configuration share one JVM-wide pool; a different setting is another pool.
    assertEquals(p.workerConfig(), p.withThreads(DSPexPredict.DEFAULT_THREADS).workerConfig());
    assertNotEquals(p.workerConfig(), p.withWorkers(1).workerConfig());
  }

  @Test
  public void givenNoEnvironmentChosen_thenEachTransformAsksTheManagedVenvForTheExtraItNeeds() {
    assertEquals(PythonEnvironment.Extra.EMBED, DSPexEmbed.of("m").workerConfig().environment().extra());
    assertEquals(PythonEnvironment.Extra.PREDICT,
        DSPexEmbed.of("m").withOpenAiBackend("http://localhost:1/v1").workerConfig().environment().extra());
    assertEquals(PythonEnvironment.Extra.PREDICT, DSPexPredict.of("q -> a").workerConfig().environment().extra());
    PythonEnvironment chosen = PythonEnvironment.managed().withWheelDir("/mnt/wheels");
    assertEquals(chosen, DSPexEmbed.of("m").withEnvironment(chosen).workerConfig().environment());
    assertEquals(PythonEnvironment.none(),
        DSPexPredict.of("q -> a").withEnvironment(PythonEnvironment.none()).workerConfig().environment());
  }

  @Test
  public void givenTransformSerializedWithItsPipeline_thenItsWorkerConfigKeysTheSamePool() {
    DSPexPredict p = TestSupport.fakePredict("q -> a").withWorkers(2).withApiKeyEnv("DSPEX_TEST_SECRET")
        .withRequestTimeout(java.time.Duration.ofSeconds(30)).withStallTimeout(java.time.Duration.ofSeconds(7));
    DSPexPredict copy = org.apache.beam.sdk.util.SerializableUtils.clone(p);
    assertEquals(p.workerConfig(), copy.workerConfig());
    assertEquals(p.workerConfig().hashCode(), copy.workerConfig().hashCode());
    assertEquals(java.time.Duration.ofSeconds(30), copy.workerConfig().requestTimeout());
    assertEquals(java.time.Duration.ofSeconds(7), copy.workerConfig().stallTimeout());
  }

  @Test
  public void givenApiKeyValueInsteadOfName_thenRefusedWithoutEchoingIt() {
    String secret = "sk-proj-THIS-IS-A-SECRET";
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DSPexPredict.of("q -> a").withApiKeyEnv(secret));
    assertThat(e.getMessage(), allOf(containsString("withApiKeyEnv"), not(containsString(secret))));
  }

  @Test
  public void givenWithCall_thenOriginalUnchanged() {
    DSPexPredict a = DSPexPredict.of("q -> a");
    DSPexPredict b = a.withThreads(3).withModel("m");
    assertNotSame(a, b);
    assertEquals(DSPexPredict.DEFAULT_THREADS, a.threads());
    assertEquals(null, a.model());
    assertEquals(3, b.threads());
    assertEquals(b, b.toBuilder().build());
  }

  @Test
  public void givenInputLackingSignatureField_thenExpandFailsNamingFieldAndSchemaFields() {
    Schema s = Schema.builder().addStringField("question").addInt64Field("id").build();
    PCollection<Row> rows = p.apply(Create.of(Row.withSchema(s).addValues("q", 1L).build()).withRowSchema(s));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> rows.apply(DSPexPredict.of("question, context: list[str] -> answer").withModel("m")));
    assertThat(e.getMessage(), allOf(containsString("'context'"), containsString("[question, id]")));
  }

  @Test
  public void givenOutputNameClashingWithInputField_thenExpandFails() {
    Schema s = Schema.builder().addStringField("question").addStringField("answer").build();
    PCollection<Row> rows = p.apply(Create.of(Row.withSchema(s).addValues("q", "a").build()).withRowSchema(s));
    assertRefused(() -> rows.apply(DSPexPredict.of("question -> answer").withModel("m")), "'answer'");
  }

  @Test
  public void givenNoLm_thenExpandSaysWhichMethodToCall() {
    PCollection<String> texts = p.apply(Create.of("x"));
    assertRefused(() -> texts.apply(DSPexPredict.of("q -> a")), "withModel", "withLmFactory");
  }

  @Test
  public void givenStringsAndTwoInputSignature_thenExpandFails() {
    PCollection<String> texts = p.apply(Create.of("x"));
    assertRefused(() -> texts.apply(DSPexPredict.of("q, c -> a").withModel("m")), "one input", "[q, c]");
  }

  @Test
  public void givenUnsupportedKeyType_thenExpandSaysWhichKeysWork() {
    PCollection<KV<java.util.UUID, String>> kvs = p.apply(Create.of(KV.of(java.util.UUID.randomUUID(), "x"))
        .withCoder(KvCoder.of(SerializableCoder.of(java.util.UUID.class), StringUtf8Coder.of())));
    assertRefused(() -> kvs.apply(DSPexEmbed.of("m")), "String, Long");
  }

  @Test
  public void givenEmbedPrecisionAndThreads_thenTheySetUpTheLocalModelAndItsWorkers() {
    DSPexEmbed e = DSPexEmbed.of("m").withPrecision("int8").withWorkers(3).withThreadsPerWorker(2);
    assertEquals("int8", e.setupArgs().get("precision"));
    assertEquals(2, e.workerConfig().threadsPerWorker());
    assertEquals(null, DSPexEmbed.of("m").setupArgs().get("precision"));  // the worker's default
    assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors() / 3),
        DSPexEmbed.of("m").withWorkers(3).workerConfig().threadsPerWorker());
    PCollection<String> texts = p.apply(Create.of("x"));
    assertRefused(() -> texts.apply(DSPexEmbed.of("m").withOpenAiBackend("http://x").withPrecision("int8")),
        "withPrecision", "withOpenAiBackend");
  }

  @Test
  public void givenEmbedRowsWithoutTextField_thenExpandNamesWithTextField() {
    Schema s = Schema.builder().addStringField("body").build();
    PCollection<Row> rows = p.apply(Create.of(Row.withSchema(s).addValues("t").build()).withRowSchema(s));
    assertRefused(() -> rows.apply(DSPexEmbed.of("m")), "'text'", "withTextField", "[body]");
  }
}
