package org.dspex.beam.transforms;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.dspex.beam.transforms.failures.Failures;
import org.dspex.beam.transforms.signature.FieldType;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The transforms' constants agree with {@code python/dspex_worker/contract.json}, which the worker
 * reads at run time: the field type names a program's fields come in, the {@code setup} keys the
 * transforms send (every one of them a key the worker's kind accepts), and the element failure
 * types Java gives.
 */
public class ContractTest {
  private static JsonNode contract;

  @BeforeClass
  public static void read() throws IOException {
    Path testdata = Path.of(System.getProperty("dspex.testdata", "../testdata")).toAbsolutePath();
    contract = new ObjectMapper().readTree(
        testdata.resolveSibling("python").resolve("dspex_worker").resolve("contract.json").normalize().toFile());
  }

  private static Set<String> strings(JsonNode array) {
    Set<String> s = new TreeSet<>();
    array.forEach(n -> s.add(n.asText()));
    return s;
  }

  @Test
  public void givenTheContractsFieldTypes_thenEachIsOneJavaModelsAndJsonIsTheRest() {
    Set<FieldType.Kind> kinds = new TreeSet<>();
    for (String t : strings(contract.get("field_types"))) {
      FieldType parsed = FieldType.fromWorker(t);
      kinds.add(parsed.kind());
      if (!t.equals("json")) {
        assertEquals(t, FieldType.parse(t).toString());
      }
    }
    Set<FieldType.Kind> expected = new TreeSet<>(Set.of(FieldType.Kind.values()));
    // A Literal travels as its value type with a list of values, not as a type name.
    expected.remove(FieldType.Kind.LITERAL);
    assertEquals(expected, kinds);
  }

  @Test
  public void givenEverySettingOfDSPexPredict_thenItsSetupKeysAreTheWorkersPredictAndLmKeys() {
    Map<String, Object> signature = DSPexPredict.of("q -> a").withChainOfThought(true).withProgramState("s.json")
        .withModel("openai/m").withApiBase("http://x").withApiKeyEnv("KEY").withTemperature(0.5).withMaxTokens(9)
        .withNumRetries(2).withCache(true).withCacheDir("/tmp/c").withLmFactory("m:f", Map.of("a", 1))
        .withThreads(3).withBatchApi(BatchApi.openAi().withStateFile("/tmp/out.batches.json")).setupArgs();
    Map<String, Object> program = DSPexPredict.ofProgram("m:build").withProgramArgs(Map.of("k", 1)).setupArgs();
    Set<String> keys = new TreeSet<>(signature.keySet());
    keys.addAll(program.keySet());
    keys.remove("kind");
    Set<String> accepted = strings(contract.get("setup").get("predict"));
    assertTrue(accepted + " accepts " + keys, accepted.containsAll(keys));
    @SuppressWarnings("unchecked")
    Set<String> lmKeys = ((Map<String, Object>) signature.get("lm")).keySet();
    Set<String> lmAccepted = strings(contract.get("setup").get("lm"));
    assertTrue(lmAccepted + " accepts " + lmKeys, lmAccepted.containsAll(lmKeys));
    @SuppressWarnings("unchecked")
    Set<String> batchKeys = ((Map<String, Object>) signature.get("batch_api")).keySet();
    assertEquals(strings(contract.get("setup").get("batch_api")), new TreeSet<>(batchKeys));
  }

  @Test
  public void givenEverySettingOfDSPexEmbed_thenItsSetupKeysAreTheWorkersEmbedKeys() {
    Set<String> keys = new TreeSet<>(DSPexEmbed.of("m").withNormalize(true).withModelBatchSize(8)
        .withPrecision("int8").withOpenAiBackend("http://x").withApiKeyEnv("KEY").setupArgs().keySet());
    assertTrue(keys.toString(), keys.contains("precision"));
    keys.remove("kind");
    Set<String> accepted = strings(contract.get("setup").get("embed"));
    assertTrue(accepted + " accepts " + keys, accepted.containsAll(keys));
  }

  @Test
  public void givenEverySettingOfDSPexOptimize_thenItsSetupKeysAreTheWorkersOptimizeAndLmKeys() {
    Map<String, Object> signature = DSPexOptimize.of("q -> a").withChainOfThought(true).withProgramState("s.json")
        .withModel("openai/m").withApiBase("http://x").withApiKeyEnv("KEY").withTemperature(0.5).withMaxTokens(9)
        .withNumRetries(2).withCacheDir("/tmp/c").withTeacherModel("openai/t").withTeacherApiBase("http://t")
        .withTeacherApiKeyEnv("TKEY").withTeacherTemperature(1).withOptimizer("MIPROv2")
        .withOptimizerOption("auto", "light").withMetric("m:f").withMetricThreshold(0.5).withLabelFields("a")
        .withSeed(3).withThreads(2).withCompileTimeout(java.time.Duration.ofMinutes(1)).setupArgs();
    Map<String, Object> program = DSPexOptimize.ofProgram("m:build").withProgramArgs(Map.of("k", 1))
        .withLmFactory("m:lm", Map.of()).withTeacherLmFactory("m:t", Map.of()).setupArgs();
    Set<String> keys = new TreeSet<>(signature.keySet());
    keys.addAll(program.keySet());
    keys.remove("kind");
    Set<String> accepted = strings(contract.get("setup").get("optimize"));
    assertTrue(accepted + " accepts " + keys, accepted.containsAll(keys));
    Set<String> lmAccepted = strings(contract.get("setup").get("lm"));
    for (Map<String, Object> args : java.util.List.of(signature, program)) {
      for (String lm : java.util.List.of("lm", "teacher_lm")) {
        @SuppressWarnings("unchecked")
        Set<String> lmKeys = ((Map<String, Object>) args.get(lm)).keySet();
        assertTrue(lmAccepted + " accepts " + lmKeys, lmAccepted.containsAll(lmKeys));
      }
    }
  }

  @Test
  public void givenTheOptimizerNamesAliasesAndMetrics_thenTheyAreTheContracts() {
    JsonNode optimizers = contract.get("optimizers");
    java.util.List<String> names = new java.util.ArrayList<>();
    optimizers.get("names").forEach(n -> names.add(n.asText()));
    assertEquals(names, DSPexOptimize.OPTIMIZERS);
    Map<String, String> aliases = new java.util.TreeMap<>();
    optimizers.get("aliases").fields().forEachRemaining(e -> aliases.put(e.getKey(), e.getValue().asText()));
    assertEquals(aliases, new java.util.TreeMap<>(DSPexOptimize.OPTIMIZER_ALIASES));
    assertEquals(strings(optimizers.get("metrics")), new TreeSet<>(DSPexOptimize.METRICS));
  }

  @Test
  public void givenTheJavaFailureTypes_thenTheyAreTheContractsClientElementErrors() throws IllegalAccessException {
    Set<String> names = new TreeSet<>();
    for (Field f : Failures.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
        names.add((String) f.get(null));
      }
    }
    assertEquals(strings(contract.get("errors").get("element_client")), names);
  }
}
