package org.dspex.beam.connector.codec;

import org.dspex.beam.connector.protocol.Protocol;

/**
 * One codec per content format, shared by a connection's reader and writer (or by all connections
 * of a pool). Closing it releases the Arrow allocator.
 */
public final class Codecs implements AutoCloseable {
  private final JsonCodec json = new JsonCodec();
  private final MsgpackCodec msgpack = new MsgpackCodec();
  private final ArrowCodec arrow;
  private final NumpyCodec numpy = new NumpyCodec();

  private Codecs(ArrowCodec arrow) {
    this.arrow = arrow;
  }

  /** Codecs with the default Arrow memory limit ({@link ArrowCodec#DEFAULT_MEMORY_LIMIT_BYTES}). */
  public static Codecs create() {
    return new Codecs(new ArrowCodec());
  }

  /** Codecs whose Arrow allocator is limited to {@code arrowMemoryLimitBytes}. */
  public static Codecs create(long arrowMemoryLimitBytes) {
    return new Codecs(new ArrowCodec(arrowMemoryLimitBytes));
  }

  /** The JSON codec. */
  public JsonCodec json() {
    return json;
  }

  /** The MessagePack codec. */
  public MsgpackCodec msgpack() {
    return msgpack;
  }

  /** The Arrow codec. */
  public ArrowCodec arrow() {
    return arrow;
  }

  /** The NPY codec. */
  public NumpyCodec numpy() {
    return numpy;
  }

  /**
   * The codec of a content format.
   *
   * @throws IllegalArgumentException for {@code AUTO} and {@code REF}, which are not content formats
   */
  public Codec forFormat(Protocol format) {
    switch (format) {
      case JSON:
        return json;
      case MSGPACK:
        return msgpack;
      case ARROW:
        return arrow;
      case NUMPY:
        return numpy;
      default:
        throw new IllegalArgumentException(format.wireName() + " is not a content format");
    }
  }

  @Override
  public void close() {
    arrow.close();
  }
}
