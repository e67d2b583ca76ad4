package org.dspex.beam.connector.codec;

/**
 * Apache Arrow's memory layer cannot start in this JVM, so no {@link ArrowCodec} (and no connection,
 * whose codecs include it) can be made. On Java 17 and later the usual cause is a JVM started
 * without {@code --add-opens=java.base/java.nio=ALL-UNNAMED}: Arrow's allocator then starts, but
 * viewing a buffer as a {@code ByteBuffer} fails with {@code "sun.misc.Unsafe or
 * java.nio.DirectByteBuffer.<init>(long, int) not available"}, which names no fix. This
 * exception says which option is missing.
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
