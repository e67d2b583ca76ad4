package org.dspex.beam.connector.environment;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A hash-pinned lock file and what its header promises about the venv it builds: the {@code .pth}
 * files allowed ({@code # expected-pth:}) and {@code pip check}'s documented exceptions ({@code #
 * pip-check-allowed:}).
 */
final class BundledLock {
  /** The classpath folder of the bundled Python side (the connector jar's {@code dspex-python/}). */
  static final String RESOURCE_ROOT = "dspex-python";

  private final String name;
  private final byte[] content;
  private final String sha256;
  private final Set<String> expectedPth;
  private final List<String> pipCheckAllowed;
  private final int packages;

  BundledLock(String name, byte[] content) {
    this.name = name;
    this.content = content.clone();
    this.sha256 = sha256(content);
    Set<String> pth = new LinkedHashSet<>();
    List<String> allowed = new ArrayList<>();
    int count = 0;
    for (String line : new String(content, StandardCharsets.UTF_8).split("\n", -1)) {
      if (line.startsWith("# expected-pth:")) {
        pth.addAll(Arrays.asList(line.substring("# expected-pth:".length()).trim().split("\\s+")));
      } else if (line.startsWith("# pip-check-allowed:")) {
        allowed.add(line.substring("# pip-check-allowed:".length()).trim());
      } else if (!line.isEmpty() && !line.startsWith(" ") && !line.startsWith("#") && line.contains("==")) {
        count++;
      }
    }
    pth.remove("");
    this.expectedPth = Set.copyOf(pth);
    this.pipCheckAllowed = List.copyOf(allowed);
    this.packages = count;
  }

  /** The lock of {@code extra}, read from the classpath. */
  static BundledLock load(PythonEnvironment.Extra extra) throws EnvironmentSetupException {
    String resource = RESOURCE_ROOT + "/" + extra.lockFile();
    try (InputStream in = BundledLock.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new EnvironmentSetupException("the connector jar has no " + resource
            + " to build the workers' venv from (a jar built without its Python side?)", null);
      }
      return new BundledLock(extra.lockFile(), in.readAllBytes());
    } catch (IOException e) {
      throw new EnvironmentSetupException("cannot read " + resource + ": " + e.getMessage(), e);
    }
  }

  String name() {
    return name;
  }

  byte[] content() {
    return content.clone();
  }

  /** The hex SHA-256 of the file: the venv's key. */
  String sha256() {
    return sha256;
  }

  Set<String> expectedPth() {
    return expectedPth;
  }

  List<String> pipCheckAllowed() {
    return pipCheckAllowed;
  }

  /** Pinned packages (for progress messages). */
  int packages() {
    return packages;
  }

  private static String sha256(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
