package org.dspex.beam.connector.environment;

import java.nio.file.Path;

/** The per-user cache root: the one rule the Java side and the worker's model cache both follow. */
final class CacheDir {
  private CacheDir() {}

  /** {@code setting}, else {@code $DSPEX_CACHE_DIR}, else {@code $XDG_CACHE_HOME/dspex}, else {@code ~/.cache/dspex}. */
  static Path resolve(String setting) {
    if (setting != null && !setting.isEmpty()) {
      return Path.of(setting).toAbsolutePath();
    }
    String dspex = System.getenv(PythonEnvironment.CACHE_DIR_ENV);
    if (dspex != null && !dspex.isEmpty()) {
      return Path.of(dspex).toAbsolutePath();
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, "dspex");
    }
    return Path.of(System.getProperty("user.home"), ".cache", "dspex");
  }
}
