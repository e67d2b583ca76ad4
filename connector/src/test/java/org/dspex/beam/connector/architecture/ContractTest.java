package org.dspex.beam.connector.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.dspex.beam.connector.codec.CodecException;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.protocol.Connection;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.protocol.FrameType;
import org.dspex.beam.connector.protocol.ProtocolException;
import org.dspex.beam.connector.protocol.ProtocolSettings;
import org.dspex.beam.connector.protocol.ProtocolVersion;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connector's constants agree with {@code python/dspex_worker/contract.json}, the one file of
 * what the Java and Python sides share (the worker reads it at run time): content formats and frame
 * type bytes, protocol versions, the package version, the protocol settings' defaults and their
 * {@code hello} keys, and the protocol error names. A value changed on one side only fails here.
 */
class ContractTest {
  private static JsonNode contract;

  /** The contract file of this checkout. */
  static Path contractFile() {
    Path testdata = Path.of(System.getProperty("dspex.testdata", "../testdata")).toAbsolutePath();
    return testdata.resolveSibling("python").resolve("dspex_worker").resolve("contract.json").normalize();
  }

  @BeforeAll
  static void read() throws IOException {
    contract = new ObjectMapper().readTree(contractFile().toFile());
  }

  @Test
  void givenTheRegistry_thenEveryContentFormatHasTheContractsNameByteAndCapabilities() {
    JsonNode formats = contract.get("formats");
    assertEquals(formats.size(), ContentFormat.values().length, "the number of content formats");
    for (int i = 0; i < formats.size(); i++) {
      JsonNode f = formats.get(i);
      ContentFormat c = ContentFormat.values()[i];
      assertEquals(f.get("name").asText(), c.wireName());
      assertEquals(f.get("frame_type").asInt(), c.frameType(), c.wireName());
      assertEquals(f.get("header").asBoolean(), c.mayCarryHeader(), c.wireName() + " header");
      assertEquals(f.get("records").asBoolean(), c.carriesRecords(), c.wireName() + " records");
      assertEquals(f.get("arrays").asBoolean(), c.carries() == ContentFormat.Carries.NUMERIC_ARRAYS,
          c.wireName() + " arrays");
      assertEquals(c, FrameType.of(c).contentFormat());
    }
  }

  @Test
  void givenTheProtocolsOwnFrameTypes_thenTheirBytesAreTheContracts() {
    Map<String, Integer> own = new java.util.TreeMap<>();
    for (FrameType t : FrameType.values()) {
      if (t.contentFormat() == null) {
        own.put(t.name(), t.code());
      }
    }
    Map<String, Integer> expected = new java.util.TreeMap<>();
    contract.get("frame_types").fields().forEachRemaining(e -> expected.put(e.getKey(), e.getValue().asInt()));
    assertEquals(expected, own);
    assertEquals(contract.get("ref_format").asText(), FormatChoice.REF.wireName());
  }

  @Test
  void givenTheWorkersTempDirVariable_thenItIsTheContracts() throws Exception {
    java.lang.reflect.Field f = Class.forName("org.dspex.beam.connector.worker.WorkerLaunch").getDeclaredField("TEMP_DIR_ENV");
    f.setAccessible(true);
    assertEquals(contract.get("worker_env").get("temp_dir").asText(), f.get(null));
  }

  @Test
  void givenTheVersions_thenTheyAreTheContracts() {
    assertEquals(contract.get("package_version").asText(), Connection.CLIENT_VERSION);
    List<String> protocols = new ArrayList<>();
    contract.get("protocols").forEach(p -> protocols.add(p.asText()));
    assertEquals(List.of(ProtocolVersion.V2.wireName(), ProtocolVersion.V1.wireName()), protocols);
  }

  @Test
  void givenTheDefaultSettings_thenTheirHelloArgsAreTheContractsSettings() {
    Map<String, Object> hello = ProtocolSettings.defaults().toHelloArgs();
    JsonNode settings = contract.get("settings");
    assertEquals(settings.size(), hello.size(), "hello setting keys " + hello.keySet());
    settings.fields().forEachRemaining(e ->
        assertEquals(e.getValue().asLong(), ((Number) hello.get(e.getKey())).longValue(), e.getKey()));
  }

  @Test
  void givenEveryProtocolAndCodecException_thenTheirNamesAreTheContractsProtocolErrors() throws Exception {
    TreeSet<String> names = new TreeSet<>();
    for (Class<?> c : classesOf(ProtocolException.class.getPackageName(), CodecException.class.getPackageName())) {
      boolean wireError = ProtocolException.class.isAssignableFrom(c) || CodecException.class.isAssignableFrom(c);
      if (!wireError || Modifier.isAbstract(c.getModifiers())) {
        continue;
      }
      try {
        Object e = c.getConstructor(String.class).newInstance("x");
        names.add((String) c.getMethod("errorName").invoke(e));
      } catch (NoSuchMethodException wrapper) {
        // PayloadException wraps a codec error and takes its name: not a name of its own.
      }
    }
    TreeSet<String> expected = new TreeSet<>();
    contract.get("errors").get("protocol").forEach(n -> expected.add(n.asText()));
    assertEquals(expected, names);
  }

  /** The top-level main classes of {@code packages} (from the main classes' folder, not the tests'). */
  private static List<Class<?>> classesOf(String... packages) throws IOException, URISyntaxException,
      ClassNotFoundException {
    URL root = ProtocolException.class.getProtectionDomain().getCodeSource().getLocation();
    assertTrue("file".equals(root.getProtocol()), "main classes in a folder: " + root);
    List<Class<?>> classes = new ArrayList<>();
    for (String pkg : packages) {
      Path dir = Path.of(root.toURI()).resolve(pkg.replace('.', '/'));
      try (Stream<Path> files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          String name = p.getFileName().toString();
          if (name.endsWith(".class") && !name.contains("$")) {
            classes.add(Class.forName(pkg + "." + name.substring(0, name.length() - ".class".length())));
          }
        }
      }
    }
    return classes;
  }
}
