package org.dspex.beam.connector.codec;

import java.util.EnumMap;
import java.util.Map;

/**
 * One codec per content format, made from the registry ({@link ContentFormat}), shared by a
 * connection's reader and writer (or by all connections of a pool). Closing it releases the Arrow
 * allocator.
 */
public final class Codecs implements AutoCloseable {
  private final Map<ContentFormat, Codec> byFormat = new EnumMap<>(ContentFormat.class);

  private Codecs(long memoryLimitBytes) {
    for (ContentFormat f : ContentFormat.values()) {
      byFormat.put(f, f.newCodec(memoryLimitBytes));
    }
  }

  /** Codecs with the default Arrow memory limit ({@link ArrowCodec#DEFAULT_MEMORY_LIMIT_BYTES}). */
  public static Codecs create() {
    return new Codecs(ArrowCodec.DEFAULT_MEMORY_LIMIT_BYTES);
  }

  /** Codecs whose Arrow allocator is limited to {@code arrowMemoryLimitBytes}. */
  public static Codecs create(long arrowMemoryLimitBytes) {
    return new Codecs(arrowMemoryLimitBytes);
  }

  /** The JSON codec. */
  public JsonCodec json() {
    return (JsonCodec) byFormat.get(ContentFormat.JSON);
  }

  /** The MessagePack codec. */
  public MsgpackCodec msgpack() {
    return (MsgpackCodec) byFormat.get(ContentFormat.MSGPACK);
  }

  /** The Arrow codec. */
  public ArrowCodec arrow() {
    return (ArrowCodec) byFormat.get(ContentFormat.ARROW);
  }

  /** The NPY codec. */
  public NumpyCodec numpy() {
    return (NumpyCodec) byFormat.get(ContentFormat.NUMPY);
  }

  /** The codec of a content format. */
  public Codec forFormat(ContentFormat format) {
    return byFormat.get(format);
  }

  @Override
  public void close() {
    for (Codec c : byFormat.values()) {
      c.close();
    }
  }
}
