package org.dspex.beam.connector.codec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessageInsufficientBufferException;
import org.msgpack.core.MessageIntegerOverflowException;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.ValueType;

/**
 * Canonical MessagePack ({@code docs/protocol.md} section 3.2), on msgpack-core.
 *
 * <p>Encoding is canonical: integers, strings, binaries, arrays and maps in their smallest form,
 * floats always as float 64 (NaN as {@code 0x7ff8000000000000}), text always as str, never ext.
 * Strings are written as header plus UTF-8 bytes so that the header is chosen from the byte length
 * itself, never from an estimate.
 *
 * <p>Decoding is strict: exactly one value filling the payload, string map keys, strict UTF-8, no
 * ext types; anything else is {@link CorruptedPayloadException}. Lengths in headers are checked
 * against the bytes that are left before anything is allocated for them.
 */
public final class MsgpackCodec implements Codec {
  /** Nesting deeper than this is refused both ways. */
  public static final int MAX_DEPTH = 1000;

  private static final MessagePack.UnpackerConfig UNPACKER =
      new MessagePack.UnpackerConfig()
          .withActionOnMalformedString(CodingErrorAction.REPORT)
          .withActionOnUnmappableString(CodingErrorAction.REPORT)
          .withBufferSize(64 * 1024);

  @Override
  public ContentFormat format() {
    return ContentFormat.MSGPACK;
  }

  @Override
  public ByteBuffer encode(Object value) throws EncodingException {
    return encode(value, "");
  }

  /** Encodes {@code value}; an error names the offending field below {@code rootPath}. */
  @Override
  public ByteBuffer encode(Object value, String rootPath) throws EncodingException {
    MessageBufferPacker packer = MessagePack.newDefaultBufferPacker();
    try {
      pack(packer, value, 0);
      packer.flush();
      return ByteBuffer.wrap(packer.toByteArray());
    } catch (EncodingFailure f) {
      throw f.toException(rootPath, "MessagePack");
    } catch (IOException e) {
      throw new EncodingException("cannot encode MessagePack: " + e.getMessage(), e);
    }
  }

  private static void pack(MessageBufferPacker p, Object v, int depth) throws IOException {
    if (v == null) {
      p.packNil();
    } else if (v instanceof String) {
      String s = (String) v;
      Strings.checkNoUnpairedSurrogate(s);
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      p.packRawStringHeader(utf8.length);
      p.writePayload(utf8);
    } else if (v instanceof Boolean) {
      p.packBoolean((Boolean) v);
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      p.packLong(((Number) v).longValue());
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      // Every NaN is written with one bit pattern, so that equal values give equal bytes.
      p.packDouble(Double.isNaN(d) ? Double.NaN : d);
    } else if (v instanceof byte[]) {
      byte[] b = (byte[]) v;
      p.packBinaryHeader(b.length);
      p.writePayload(b);
    } else if (v instanceof ByteBuffer) {
      ByteBuffer b = ((ByteBuffer) v).duplicate();
      byte[] copy = new byte[b.remaining()];
      b.get(copy);
      p.packBinaryHeader(copy.length);
      p.writePayload(copy);
    } else if (v instanceof Map) {
      checkDepth(depth);
      Map<?, ?> map = (Map<?, ?>) v;
      p.packMapHeader(map.size());
      for (Map.Entry<?, ?> e : map.entrySet()) {
        Object key = e.getKey();
        if (!(key instanceof String)) {
          throw new EncodingFailure("a map key of type " + JsonCodec.typeName(key) + " (keys are strings)");
        }
        try {
          pack(p, key, depth + 1);
          pack(p, e.getValue(), depth + 1);
        } catch (EncodingFailure f) {
          throw f.inKey((String) key);
        }
      }
    } else if (v instanceof List) {
      checkDepth(depth);
      List<?> list = (List<?>) v;
      p.packArrayHeader(list.size());
      int i = 0;
      for (Object item : list) {
        try {
          pack(p, item, depth + 1);
        } catch (EncodingFailure f) {
          throw f.atIndex(i);
        }
        i++;
      }
    } else {
      throw new EncodingFailure("a value of type " + JsonCodec.typeName(v));
    }
  }

  private static void checkDepth(int depth) {
    if (depth >= MAX_DEPTH) {
      throw new EncodingFailure("a value nested deeper than " + MAX_DEPTH + " levels");
    }
  }

  @Override
  public Object decode(ByteBuffer payload) throws CorruptedPayloadException {
    long total = payload.remaining();
    // msgpack wraps a heap buffer in place; a direct one (a mapped REF) it would wrap through
    // sun.nio.ch, closed on Java 17, so that one is read in chunks instead.
    try (MessageUnpacker u =
        payload.hasArray()
            ? UNPACKER.newUnpacker(payload.slice())
            : UNPACKER.newUnpacker(new ByteBufferChannel(payload))) {
      if (!u.hasNext()) {
        throw CodecErrors.corrupted(payload, "empty MessagePack payload", null);
      }
      Object value = read(u, total, 0);
      if (u.hasNext()) {
        throw CodecErrors.corrupted(
            payload,
            String.format(
                "%d trailing bytes after the MessagePack value", total - u.getTotalReadBytes()),
            null);
      }
      return value;
    } catch (CorruptedPayloadException e) {
      throw e;
    } catch (MessageInsufficientBufferException e) {
      throw CodecErrors.corrupted(payload, "truncated MessagePack value", e);
    } catch (MessageIntegerOverflowException e) {
      throw CodecErrors.corrupted(payload, "MessagePack integer beyond signed 64 bits", e);
    } catch (MessagePackException | IOException | IllegalStateException e) {
      throw CodecErrors.corrupted(payload, "invalid MessagePack: " + e.getMessage(), e);
    }
  }

  /** Decodes a payload that must hold a map, such as a message header or a stream frame. */
  @Override
  @SuppressWarnings("unchecked")
  public Map<String, Object> decodeMap(ByteBuffer payload) throws CorruptedPayloadException {
    Object v = decode(payload);
    if (!(v instanceof Map)) {
      throw CodecErrors.corrupted(payload, "expected a MessagePack map, found " + CodecErrors.kind(v), null);
    }
    return (Map<String, Object>) v;
  }

  private static Object read(MessageUnpacker u, long total, int depth) throws IOException {
    MessageFormat f = u.getNextFormat();
    ValueType t = f.getValueType();
    switch (t) {
      case NIL:
        u.unpackNil();
        return null;
      case BOOLEAN:
        return u.unpackBoolean();
      case INTEGER:
        return u.unpackLong();
      case FLOAT:
        return u.unpackDouble();
      case STRING:
        return u.unpackString();
      case BINARY:
        {
          int len = u.unpackBinaryHeader();
          checkLength(len, u, total, "bin");
          return u.readPayload(len);
        }
      case ARRAY:
        {
          if (depth >= MAX_DEPTH) {
            throw new IOException("nested deeper than " + MAX_DEPTH + " levels");
          }
          int n = u.unpackArrayHeader();
          checkLength(n, u, total, "array");
          List<Object> list = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            list.add(read(u, total, depth + 1));
          }
          return list;
        }
      case MAP:
        {
          if (depth >= MAX_DEPTH) {
            throw new IOException("nested deeper than " + MAX_DEPTH + " levels");
          }
          int n = u.unpackMapHeader();
          checkLength(2L * n, u, total, "map");
          Map<String, Object> map = new LinkedHashMap<>(Math.max(4, n * 4 / 3 + 1));
          for (int i = 0; i < n; i++) {
            MessageFormat kf = u.getNextFormat();
            if (kf.getValueType() != ValueType.STRING) {
              throw new IOException(
                  "map key is " + kf.getValueType().name().toLowerCase() + ", not a string");
            }
            String key = u.unpackString();
            map.put(key, read(u, total, depth + 1));
          }
          return map;
        }
      case EXTENSION:
        throw new IOException("ext type " + f + " (the protocol has no ext types)");
      default:
        throw new IOException("unexpected MessagePack format " + f);
    }
  }

  /** Each element takes at least one byte, so a count above what is left is a lie, not a value. */
  private static void checkLength(long count, MessageUnpacker u, long total, String what)
      throws IOException {
    long left = total - u.getTotalReadBytes();
    if (count < 0 || count > left) {
      throw new MessageInsufficientBufferException(
          String.format("%s of length %d with only %d bytes left", what, count, left));
    }
  }
}
