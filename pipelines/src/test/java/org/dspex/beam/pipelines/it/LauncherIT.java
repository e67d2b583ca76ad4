package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./dspex} launcher itself: it starts the jar Maven just built without building again,
 * and refuses a missing or old tool with one line and exit code 2. The refusals run a copy of the
 * launcher with a {@code PATH} of chosen tools, so they start no JVM.
 */
class LauncherIT {
  /** The tools the launcher uses besides java, mvn and python3. */
  private static final List<String> TOOLS = List.of("bash", "sed", "head", "cut", "cat", "find", "sha256sum",
      "flock", "readlink", "dirname", "mktemp", "rm", "touch");

  @TempDir Path tmp;

  @Test
  void givenTheJarMavenJustBuilt_thenRunsAtOnceFromAnyDirectoryWithoutBuilding() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("DSPEX_SKIP_BUILD", null);  // the real staleness check
    Dspex.Run r = Dspex.run(tmp, env, "--version").expectExit(0);
    assertEquals("dspex 0.1.0", r.stdout().strip(), r::toString);
    assertFalse(r.stderr().contains("building"), () -> "the fresh jar was taken as stale: " + r);
  }

  @Test
  void givenNoJavaOnPath_thenOneLineAndExit2() throws Exception {
    Path bin = toolsDir(Map.of());
    Dspex.Run r = launcher(Dspex.root().resolve("dspex"), bin, "--version").expectExit(2);
    assertEquals(List.of("dspex: error: java not found on PATH; dspex needs Java 17 or newer"
        + " (e.g. apt-get install openjdk-17-jdk-headless)"), r.stderrLines(), r::toString);
  }

  @Test
  void givenJava11_thenOneLineNamingTheVersionAndExit2() throws Exception {
    Path bin = toolsDir(Map.of("java", "#!/bin/sh\necho 'openjdk version \"11.0.22\" 2024-01-16' >&2\n"));
    Dspex.Run r = launcher(Dspex.root().resolve("dspex"), bin, "--version").expectExit(2);
    assertEquals(List.of("dspex: error: " + bin.resolve("java") + " is Java 11.0.22; dspex needs Java 17"
        + " or newer (set JAVA_HOME or PATH)"), r.stderrLines(), r::toString);
  }

  @Test
  void givenNoJarAndNoMaven_thenOneLineAndExit2() throws Exception {
    expectRefusal(true, "dspex: error: mvn not found on PATH; dspex needs Maven 3.8 or newer to build its jar"
        + " (e.g. apt-get install maven)");
  }

  @Test
  void givenNoVenvAndNoPython3_thenOneLineAndExit2() throws Exception {
    expectRefusal(false, "dspex: error: python3 not found on PATH; dspex needs Python 3.11 or newer to create"
        + " its venv (or set DSPEX_BOOTSTRAP_PYTHON)");
  }

  /** A copy of the launcher without a jar (and with or without a venv) refuses with {@code line}. */
  private void expectRefusal(boolean venv, String line) throws Exception {
    Path copy = launcherCopy(venv);
    Path bin = toolsDir(Map.of("java", javaScript()));
    Dspex.Run r = launcher(copy, bin, "--version").expectExit(2);
    assertEquals(List.of(line), r.stderrLines(), r::toString);
  }

  /** A java that reports the real one's version and does nothing else. */
  private static String javaScript() {
    return "#!/bin/sh\necho 'openjdk version \"17.0.15\" 2025-04-15' >&2\n";
  }

  /** Runs {@code launcher} with {@code PATH=bin} and no JAVA_HOME. */
  private Dspex.Run launcher(Path launcher, Path bin, String... args) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", bin.toString());
    env.put("JAVA_HOME", null);
    env.put("DSPEX_BOOTSTRAP_PYTHON", null);
    env.put("DSPEX_SKIP_BUILD", null);
    List<String> cmd = new java.util.ArrayList<>(List.of(launcher.toString()));
    cmd.addAll(List.of(args));
    return Dspex.exec(cmd, tmp, env, java.time.Duration.ofMinutes(1));
  }

  /** A folder of links to the launcher's tools, plus {@code scripts} (name to content). */
  private Path toolsDir(Map<String, String> scripts) throws IOException {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    for (String tool : TOOLS) {
      Path real = List.of(Path.of("/usr/bin", tool), Path.of("/bin", tool)).stream()
          .filter(Files::isExecutable).findFirst()
          .orElseThrow(() -> new AssertionError("no " + tool + " in /usr/bin or /bin"));
      Files.createSymbolicLink(bin.resolve(tool), real);
    }
    for (Map.Entry<String, String> s : scripts.entrySet()) {
      Path p = bin.resolve(s.getKey());
      Files.writeString(p, s.getValue(), StandardCharsets.UTF_8);
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return bin;
  }

  /**
   * A root holding a copy of the launcher and the lock file, without a jar; with {@code venv}, a
   * venv the launcher takes as current (an interpreter and the lock's hash as its marker).
   */
  private Path launcherCopy(boolean venv) throws IOException, NoSuchAlgorithmException {
    Path root = Files.createDirectories(tmp.resolve("root"));
    Path launcher = root.resolve("dspex");
    Files.copy(Dspex.root().resolve("dspex"), launcher, StandardCopyOption.COPY_ATTRIBUTES);
    Path lock = Files.createDirectories(root.resolve("python")).resolve("requirements.lock");
    Files.copy(Dspex.root().resolve("python/requirements.lock"), lock);
    if (venv) {
      Path python = Files.createDirectories(root.resolve(".venv/bin")).resolve("python");
      Files.writeString(python, "#!/bin/sh\nexit 0\n");
      Files.setPosixFilePermissions(python, PosixFilePermissions.fromString("rwxr-xr-x"));
      String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(lock)));
      Files.writeString(root.resolve(".venv/.dspex-lock-sha256"), hash + "\n");
    }
    assertTrue(Files.isExecutable(launcher));
    return launcher;
  }
}
