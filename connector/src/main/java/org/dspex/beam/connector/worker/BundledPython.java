package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The Python worker code shipped in the connector jar (classpath folder {@code dspex-python/}),
 * extracted once per JVM into a private (0700) directory of the JVM's {@link ScratchRoot} named by a
 * hash of its content, which goes first on the workers' {@code PYTHONPATH}. The root's cleanup
 * removes it: at exit, or swept by a later JVM after a SIGKILL.
 *
 * <p>Why bundled: Java then always runs the Python code of its own version, whatever is installed in
 * the interpreter. Why private and per JVM: a shared, writable directory would let another user (or
 * another version) change the code a worker runs. Works from {@code target/classes} (tests) and from
 * the jar.
 */
final class BundledPython {
  static final String RESOURCE_ROOT = "dspex-python";
  private static final String PROBE = RESOURCE_ROOT + "/dspex_worker/__init__.py";

  private static Path extracted;

  private BundledPython() {}

  /** The directory holding {@code dspex_worker/}, extracted on the first call. */
  static synchronized Path directory() throws IOException {
    if (extracted == null) {
      extracted = extract(readAll());
    }
    return extracted;
  }

  /** The bundled lock file, for install instructions. */
  static Path requirementsLock() throws IOException {
    return directory().resolve("requirements.lock");
  }

  private static Map<String, byte[]> readAll() throws IOException {
    URL probe = BundledPython.class.getClassLoader().getResource(PROBE);
    if (probe == null) {
      throw new IOException(
          "the connector's Python worker code is missing from the classpath (no " + PROBE + ")");
    }
    Map<String, byte[]> files = new TreeMap<>();
    if ("file".equals(probe.getProtocol())) {
      Path root;
      try {
        root = Path.of(probe.toURI()).getParent().getParent();
      } catch (URISyntaxException e) {
        throw new IOException(e);
      }
      try (Stream<Path> walk = Files.walk(root)) {
        for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
          files.put(root.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
        }
      }
    } else if ("jar".equals(probe.getProtocol())) {
      JarURLConnection c = (JarURLConnection) probe.openConnection();
      c.setUseCaches(false);
      try (JarFile jar = c.getJarFile()) {
        Enumeration<JarEntry> entries = jar.entries();
        while (entries.hasMoreElements()) {
          JarEntry e = entries.nextElement();
          if (!e.isDirectory() && e.getName().startsWith(RESOURCE_ROOT + "/")) {
            try (InputStream in = jar.getInputStream(e)) {
              files.put(e.getName().substring(RESOURCE_ROOT.length() + 1), in.readAllBytes());
            }
          }
        }
      }
    } else {
      throw new IOException("cannot list the bundled Python code at " + probe);
    }
    return files;
  }

  private static Path extract(Map<String, byte[]> files) throws IOException {
    String hash = hash(files);
    Path dir = ScratchRoot.onDisk().newDirectory("python-" + hash.substring(0, 16) + "-");
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      Path target = dir.resolve(f.getKey()).normalize();
      if (!target.startsWith(dir)) {
        throw new IOException("bundled Python file outside its folder: " + f.getKey());
      }
      Files.createDirectories(target.getParent());
      Files.write(target, f.getValue());
    }
    return dir;
  }

  private static String hash(Map<String, byte[]> files) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        sha.update(f.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(f.getValue());
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
