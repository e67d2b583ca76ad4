package org.dspex.beam.dataflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.pipelines.trainset.TrainsetStep;
import org.dspex.beam.transforms.DSPexEmbed;
import org.dspex.beam.transforms.DSPexOptimize;
import org.dspex.beam.transforms.DSPexPredict;
import org.dspex.beam.transforms.DSPexTransform;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The worker image recipe, {@code dataflow/container/Dockerfile}, read against the repository (it
 * cannot be built here: no container registry, no network): it starts from Beam's Java 17 SDK image
 * of the Beam version the jar is built with, installs Python of the locks' version, installs exactly
 * the lock files of the extras the transforms use, each with hashes, points {@code DSPEX_PYTHON} at
 * that venv, and its build context admits exactly what it copies. A new lock file or extra, a Beam
 * upgrade or a moved venv fails here until the recipe follows.
 */
class ContainerRecipeTest {
  /** A pinned requirement and its hash lines. */
  private static final Pattern PIN = Pattern.compile(
      "^([A-Za-z0-9_.-]+)==(\\S+)((?:\\s*\\\\\\n\\s+--hash=sha256:[0-9a-f]+)+)", Pattern.MULTILINE);
  private static final Pattern HASH = Pattern.compile("sha256:([0-9a-f]+)");
  private static final Pattern ARG = Pattern.compile("\\$\\{(\\w+)}");

  private static Path root;
  private static List<Instruction> dockerfile;
  private static Map<String, String> args;

  /** One Dockerfile instruction, continuation lines joined. */
  record Instruction(String keyword, String rest) {
    List<String> words() {
      return List.of(rest.trim().split("\\s+"));
    }
  }

  @BeforeAll
  static void read() throws IOException {
    root = Path.of(System.getProperty("dspex.root"));
    dockerfile = parse(Files.readString(root.resolve("dataflow/container/Dockerfile")));
    args = new HashMap<>();
    for (Instruction i : dockerfile) {
      if (i.keyword().equals("ARG") && i.rest().contains("=")) {
        String[] kv = i.rest().trim().split("=", 2);
        args.put(kv[0], kv[1]);
      }
    }
  }

  static List<Instruction> parse(String text) {
    List<Instruction> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      if (line.trim().startsWith("#") && current.length() == 0) {
        continue;
      }
      if (line.endsWith("\\")) {
        current.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      current.append(line);
      String instruction = current.toString().trim();
      current.setLength(0);
      if (!instruction.isEmpty()) {
        String[] parts = instruction.split("\\s+", 2);
        out.add(new Instruction(parts[0].toUpperCase(), parts.length > 1 ? parts[1] : ""));
      }
    }
    return out;
  }

  private static List<Instruction> all(String keyword) {
    return dockerfile.stream().filter(i -> i.keyword().equals(keyword)).collect(Collectors.toList());
  }

  /** {@code text} with {@code ${ARG}} replaced by the ARG's default. */
  private static String resolve(String text) {
    Matcher m = ARG.matcher(text);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      assertTrue(args.containsKey(m.group(1)), () -> "no default for ARG " + m.group(1));
      m.appendReplacement(b, Matcher.quoteReplacement(args.get(m.group(1))));
    }
    return m.appendTail(b).toString();
  }

  /** The lock files the copies bring into the image, file name to the repository path. */
  private static Map<String, String> copiedLocks() {
    Map<String, String> locks = new TreeMap<>();
    for (Instruction copy : all("COPY")) {
      List<String> w = copy.words();
      assertFalse(w.get(0).startsWith("--from"), "the image copies from the build context only: " + copy);
      for (String source : w.subList(0, w.size() - 1)) {
        if (source.endsWith(".lock")) {
          locks.put(Path.of(source).getFileName().toString(), source);
        }
      }
    }
    return locks;
  }

  /** The lock files a {@code pip install} with every safety flag installs; fails on one without them. */
  private static Set<String> installedLocks() {
    Set<String> installed = new TreeSet<>();
    for (Instruction run : all("RUN")) {
      List<String> w = run.words();
      int pip = -1;
      for (int i = 0; i + 1 < w.size(); i++) {
        if (w.get(i).equals("pip") && w.get(i + 1).equals("install")) {
          pip = i;
        }
      }
      if (pip < 0) {
        continue;
      }
      List<String> install = w.subList(pip, w.size());
      for (String flag : List.of("--require-hashes", "--no-deps", "--only-binary=:all:")) {
        assertTrue(install.contains(flag), () -> "pip install without " + flag + ": " + run);
      }
      for (int i = 0; i + 1 < install.size(); i++) {
        if (install.get(i).equals("-r")) {
          installed.add(Path.of(install.get(i + 1)).getFileName().toString());
        }
      }
    }
    return installed;
  }

  /** The lock files the transforms' workers need, by the extra each transform asks for. */
  private static Set<String> locksTheTransformsUse() {
    String lm = "openai/offline";
    Stream<DSPexTransform<?>> transforms = Stream.of(
        DSPexEmbed.of("sentence-transformers/all-MiniLM-L6-v2"),
        DSPexEmbed.of("text-embedding-3-small").withOpenAiBackend("http://127.0.0.1:9/v1"),
        DSPexPredict.of("question -> answer").withModel(lm),
        DSPexPredict.ofProgram(TrainsetStep.PROGRAM).withModel(lm),
        DSPexOptimize.of("question -> answer").withModel(lm));
    return transforms.map(t -> t.workerConfig().environment().extra().lockFile())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** Package to its pin, {@code version} and the sorted hashes. */
  private static Map<String, String> pins(String lock) throws IOException {
    Map<String, String> pins = new TreeMap<>();
    Matcher m = PIN.matcher(Files.readString(root.resolve("python").resolve(lock)));
    while (m.find()) {
      Set<String> hashes = new TreeSet<>();
      Matcher h = HASH.matcher(m.group(3));
      while (h.find()) {
        hashes.add(h.group(1));
      }
      pins.put(m.group(1).toLowerCase().replace('_', '-'), m.group(2) + " " + hashes);
    }
    return pins;
  }

  @Test
  void givenTheRecipe_thenItInstallsExactlyTheLocksOfTheTransformsExtrasEachWithHashes() {
    Set<String> installed = installedLocks();
    assertEquals(copiedLocks().keySet(), installed, "every lock copied is installed, and only those");
    assertEquals(locksTheTransformsUse(), installed, "the locks of the extras the transforms use");
    copiedLocks().values().forEach(source -> assertTrue(Files.isRegularFile(root.resolve(source)), source));
  }

  @Test
  void givenTheInstalledLocks_thenEachIsTheConnectorsBundledLockAndTheyPinSharedPackagesAlike() throws IOException {
    Map<String, String> seen = new HashMap<>();
    for (String lock : installedLocks()) {
      try (InputStream bundled = WorkerConfig.class.getClassLoader().getResourceAsStream("dspex-python/" + lock)) {
        assertNotNull(bundled, "the connector jar bundles " + lock);
        assertArrayEquals(bundled.readAllBytes(), Files.readAllBytes(root.resolve("python").resolve(lock)),
            lock + " is the lock the connector would build its venv from");
      }
      for (Map.Entry<String, String> pin : pins(lock).entrySet()) {
        String before = seen.putIfAbsent(pin.getKey(), pin.getValue());
        assertTrue(before == null || before.equals(pin.getValue()),
            () -> pin.getKey() + " is pinned to " + before + " and to " + pin.getValue() + " in the installed locks"
                + " (one pip run intersects the hashes of a package given twice)");
      }
    }
    assertTrue(seen.size() > 10, seen::toString);
  }

  @Test
  void givenTheRecipe_thenItIsBeamsJavaSdkImageOfTheBuildsBeamVersionWithItsEntrypoint() {
    List<Instruction> from = all("FROM");
    String base = resolve(from.get(from.size() - 1).words().get(0));
    assertEquals("apache/beam_java17_sdk:" + System.getProperty("beam.version"), base);
    assertTrue(all("ENTRYPOINT").isEmpty() && all("CMD").isEmpty(), "Beam's /opt/apache/beam/boot stays the entrypoint");
  }

  @Test
  void givenTheRecipe_thenPythonIsTheLocksVersionAndDspexPythonIsTheVenvPipInstalledInto() throws IOException {
    Matcher lockPython = Pattern.compile("--python-version (\\d+\\.\\d+)")
        .matcher(Files.readString(root.resolve("python/requirements.lock")));
    assertTrue(lockPython.find(), "requirements.lock names the Python it was compiled for");
    String python = args.get("PYTHON_VERSION");
    assertNotNull(python, "ARG PYTHON_VERSION");
    assertTrue(python.matches(Pattern.quote(lockPython.group(1)) + "\\.\\d+"), python);

    String venv = null;
    for (Instruction run : all("RUN")) {
      Matcher m = Pattern.compile("-m venv (\\S+)").matcher(run.rest());
      if (m.find()) {
        venv = m.group(1);
      }
    }
    assertNotNull(venv, "a RUN makes the venv with -m venv");
    String interpreter = venv + "/bin/python";
    for (Instruction run : all("RUN")) {
      if (run.rest().contains("pip install")) {
        assertTrue(run.rest().trim().startsWith(interpreter + " -m pip install"), () -> "pip of the venv: " + run);
      }
    }
    List<String> env = new ArrayList<>();
    all("ENV").forEach(e -> env.addAll(e.words()));
    assertTrue(env.contains(WorkerConfig.PYTHON_ENV + "=" + interpreter), () -> "ENV " + WorkerConfig.PYTHON_ENV
        + "=" + interpreter + " among " + env);
  }

  @Test
  void givenTheBuildContextIgnoreFile_thenItAdmitsExactlyWhatTheRecipeCopies() throws IOException {
    List<String> lines = Files.readAllLines(root.resolve("dataflow/container/Dockerfile.dockerignore"),
        StandardCharsets.UTF_8).stream().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .collect(Collectors.toList());
    assertEquals("*", lines.get(0), "everything else stays out of the context (the venv, target/)");
    Set<String> admitted = lines.stream().filter(l -> l.startsWith("!")).map(l -> l.substring(1))
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> copied = new TreeSet<>();
    for (Instruction copy : all("COPY")) {
      List<String> w = copy.words();
      copied.addAll(w.subList(0, w.size() - 1));
    }
    assertEquals(copied, admitted);
  }
}
