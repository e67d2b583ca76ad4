package org.dspex.beam.connector.environment;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A real, minimal pure-Python wheel (PEP 427), written into a folder, with the lock line that pins it
 * by hash: the venv tests install it with the real pip, offline ({@code --no-index --find-links}).
 */
final class TestWheel {
  final Path file;
  final String lockLine;

  private TestWheel(Path file, String lockLine) {
    this.file = file;
    this.lockLine = lockLine;
  }

  /** A wheel of distribution {@code name} holding {@code files} (paths relative to site-packages). */
  static TestWheel write(Path dir, String name, String version, Map<String, String> files) throws IOException {
    String dist = name.replace('-', '_');
    String info = dist + "-" + version + ".dist-info/";
    Map<String, byte[]> entries = new LinkedHashMap<>();
    files.forEach((path, text) -> entries.put(path, text.getBytes(StandardCharsets.UTF_8)));
    entries.put(info + "METADATA", ("Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n")
        .getBytes(StandardCharsets.UTF_8));
    entries.put(info + "WHEEL", "Wheel-Version: 1.0\nGenerator: dspex-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        .getBytes(StandardCharsets.UTF_8));
    StringBuilder record = new StringBuilder();
    entries.forEach((path, bytes) -> record.append(path).append(",sha256=")
        .append(Base64.getUrlEncoder().withoutPadding().encodeToString(sha256(bytes))).append(',')
        .append(bytes.length).append('\n'));
    record.append(info).append("RECORD,,\n");
    entries.put(info + "RECORD", record.toString().getBytes(StandardCharsets.UTF_8));
    ByteArrayOutputStream zip = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(zip)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        out.putNextEntry(new ZipEntry(e.getKey()));
        out.write(e.getValue());
        out.closeEntry();
      }
    }
    Files.createDirectories(dir);
    Path file = dir.resolve(dist + "-" + version + "-py3-none-any.whl");
    try (OutputStream out = Files.newOutputStream(file)) {
      zip.writeTo(out);
    }
    String hash = HexFormat.of().formatHex(sha256(zip.toByteArray()));
    return new TestWheel(file, name + "==" + version + " \\\n    --hash=sha256:" + hash + "\n");
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
