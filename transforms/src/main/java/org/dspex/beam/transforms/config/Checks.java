package org.dspex.beam.transforms.config;

/** Argument checks whose messages name the method and the value, as every {@code with*} must. */
public final class Checks {
  private Checks() {}

  /** Throws {@link IllegalArgumentException} with {@code String.format(format, args)} unless {@code ok}. */
  public static void check(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }

  /** {@code s}, unless it is null or blank. */
  public static String nonEmpty(String s, String method) {
    check(s != null && !s.isBlank(), "%s: must not be empty, was %s", method,
        s == null ? null : "'" + s + "'");
    return s;
  }

  /** Checks a {@code module:function} reference. */
  public static String moduleFunction(String s, String method) {
    nonEmpty(s, method);
    check(s.matches("[A-Za-z_][\\w.]*:[A-Za-z_]\\w*"),
        "%s: must be 'module:function' (e.g. 'my_pkg.qa:build'), was '%s'", method, s);
    return s;
  }
}
