package org.dspex.beam.connector.codec;

/**
 * Apache Arrow's memory layer cannot start in this JVM, so no {@link ArrowCodec} (and no connection,
 * whose codecs include it) can be made. On Java 17 and later the usual cause is a JVM started
 * without {@code --add-opens=java.base/java.nio=ALL-UNNAMED}: Arrow then fails in a static
 * initializer, and every later use of its classes fails with a bare {@code NoClassDefFoundError}.
 * This exception turns both into one message that names the fix.
 */
public final class ArrowUnavailableException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /** The JVM option Arrow needs on Java 17 and later. */
  public static final String ADD_OPENS = "--add-opens=java.base/java.nio=ALL-UNNAMED";

  ArrowUnavailableException(Throwable cause) {
    super("Apache Arrow cannot start in this JVM (" + rootMessage(cause) + "); on Java 17 and later the JVM"
        + " needs the option " + ADD_OPENS + " (on a Flink cluster: in env.java.opts.all)", cause);
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
