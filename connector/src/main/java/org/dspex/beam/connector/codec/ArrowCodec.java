package org.dspex.beam.connector.codec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Arrow IPC stream bodies ({@code docs/protocol.md} section 3.3): a list of records becomes a table
 * with one column per key, typed by the rules of the specification; a table decodes to an {@link
 * ArrowTable} (schema and records). Arrow is not byte-canonical, so only values are compared
 * between implementations.
 *
 * <p>Memory: the codec owns one {@link RootAllocator} with a limit ({@link
 * #DEFAULT_MEMORY_LIMIT_BYTES} unless given); every encode or decode works in a child allocator
 * that is closed before the call returns, so no Arrow memory outlives a call and a leak shows at
 * once. {@link #close()} releases the root. Decoding reads the IPC stream straight from the
 * payload buffer (heap or memory-mapped) into Arrow's buffers; the values are then materialised
 * into Java objects, which is where the time goes anyway.
 *
 * <p>Thread-safe.
 */
public final class ArrowCodec implements Codec {
  /** Default limit on the Arrow memory in use by one codec at a time: 4 GiB. */
  public static final long DEFAULT_MEMORY_LIMIT_BYTES = 4L * 1024 * 1024 * 1024;

  private final BufferAllocator root;

  /** A codec with its own allocator limited to {@link #DEFAULT_MEMORY_LIMIT_BYTES}. */
  public ArrowCodec() {
    this(DEFAULT_MEMORY_LIMIT_BYTES);
  }

  /**
   * A codec with its own allocator limited to {@code memoryLimitBytes}.
   *
   * @throws ArrowUnavailableException when Arrow's memory layer cannot start in this JVM
   */
  public ArrowCodec(long memoryLimitBytes) {
    if (memoryLimitBytes <= 0) {
      throw new IllegalArgumentException(
          "arrow memory limit must be positive, was " + memoryLimitBytes);
    }
    this.root = rootAllocator(memoryLimitBytes);
  }

  /**
   * The root allocator, once a first buffer was seen as a {@code ByteBuffer}: in a JVM without
   * Arrow's {@code --add-opens} the allocator starts, but that view (which every IPC read and write
   * takes) fails, and would fail later in the thread that first encodes or decodes a body: for an
   * answer, the worker's reader, whose channel then dies with every request on it.
   */
  private static BufferAllocator rootAllocator(long memoryLimitBytes) {
    BufferAllocator root = null;
    try {
      root = new RootAllocator(memoryLimitBytes);
      try (ArrowBuf probe = root.buffer(Long.BYTES)) {
        // What the IPC writer and reader do with every buffer: view it as a direct ByteBuffer.
        probe.nioBuffer(0, Long.BYTES).putLong(0, 0L);
      }
      return root;
    } catch (LinkageError | RuntimeException e) {
      // Arrow 19 throws UnsupportedOperationException from the view (measured); a static
      // initializer of its memory layer failing would be a LinkageError, which a thread dies of.
      if (root != null) {
        root.close();
      }
      throw new ArrowUnavailableException(e);
    }
  }

  @Override
  public ContentFormat format() {
    return ContentFormat.ARROW;
  }

  /**
   * Whether {@code records} can go as Arrow: a list of maps whose columns each have an Arrow type.
   * {@code AUTO} asks this before choosing Arrow.
   */
  public static boolean canEncode(List<?> records) {
    try {
      ArrowSchemaInference.infer(records);
      return true;
    } catch (EncodingFailure f) {
      return false;
    }
  }

  /**
   * Encodes a list of records (maps), or an {@link ArrowTable} (its records, re-inferred).
   *
   * @throws EncodingException for anything else, or a column that mixes types (named)
   */
  @Override
  public ByteBuffer encode(Object value) throws EncodingException {
    List<?> records;
    if (value instanceof ArrowTable) {
      records = ((ArrowTable) value).records();
    } else if (value instanceof List) {
      records = (List<?>) value;
    } else {
      throw new EncodingException(
          "cannot encode " + CodecErrors.kind(value) + " as Arrow: a list of records is needed");
    }
    LinkedHashMap<String, ArrowSchemaInference.ColumnType> columns;
    try {
      columns = ArrowSchemaInference.infer(records);
    } catch (EncodingFailure f) {
      throw new EncodingException("cannot encode as Arrow: " + f.getMessage() + " (" + f.path("records") + ")");
    }
    return write(ArrowSchemaInference.schema(columns), records, null);
  }

  /**
   * Encodes a body called {@code name}: a list of records (or a table) as {@link #encode(Object)}
   * does, a list of scalars as one column of that name ({@link #encodeColumn}).
   */
  @Override
  public ByteBuffer encode(Object value, String name) throws EncodingException {
    if (value instanceof List && !allMaps((List<?>) value)) {
      return encodeColumn(name, (List<?>) value);
    }
    return encode(value);
  }

  private static boolean allMaps(List<?> list) {
    for (Object o : list) {
      if (!(o instanceof Map)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Encodes a list of scalar values (strings, say) as a table of one column named {@code column}:
   * how {@code AUTO} sends a long list of strings ({@code docs/protocol.md} section 5, rule 3).
   */
  public ByteBuffer encodeColumn(String column, List<?> values) throws EncodingException {
    ArrowSchemaInference.ColumnType type;
    try {
      type = ArrowSchemaInference.inferColumn(column, values);
    } catch (EncodingFailure f) {
      throw new EncodingException("cannot encode as Arrow: " + f.getMessage());
    }
    Schema schema = new Schema(List.of(ArrowSchemaInference.field(column, type)));
    return write(schema, null, values);
  }

  /** Writes either records (maps) or, when {@code records} is null, one column of {@code values}. */
  private ByteBuffer write(Schema schema, List<?> records, List<?> values) throws EncodingException {
    int rows = records != null ? records.size() : values.size();
    try (BufferAllocator alloc = root.newChildAllocator("arrow-encode", 0, Long.MAX_VALUE);
        VectorSchemaRoot vsr = VectorSchemaRoot.create(schema, alloc)) {
      if (rows > 0) {
        List<FieldVector> vectors = vsr.getFieldVectors();
        for (FieldVector v : vectors) {
          v.setInitialCapacity(rows);
          v.allocateNew();
        }
        if (records != null) {
          writeRows(vectors, records);
        } else {
          FieldVector v = vectors.get(0);
          for (int i = 0; i < rows; i++) {
            ArrowVectors.set(v, i, values.get(i));
          }
        }
        vsr.setRowCount(rows);
      }
      // The vectors are filled before the stream is written, so the sink can be sized once from
      // their buffers instead of doubling its way up (a copy of the whole payload per doubling).
      long bufferBytes = 0;
      for (FieldVector v : vsr.getFieldVectors()) {
        bufferBytes += v.getBufferSize();
      }
      ByteSink sink = new ByteSink((int) Math.min(Integer.MAX_VALUE - 8, 4096 + bufferBytes * 9 / 8));
      try (ArrowStreamWriter writer = new ArrowStreamWriter(vsr, null, Channels.newChannel(sink))) {
        writer.start();
        if (rows > 0) {
          writer.writeBatch();
        }
        writer.end();
      }
      return sink.toByteBuffer();
    } catch (EncodingFailure f) {
      throw new EncodingException("cannot encode as Arrow: " + f.getMessage());
    } catch (IOException | RuntimeException e) {
      throw new EncodingException("cannot encode as Arrow: " + e, e);
    }
  }

  /**
   * Fills the vectors row by row. Row-major on purpose: each record map is visited once while it is
   * in cache; a column-by-column pass walks all the maps once per column (2x slower at 100k).
   */
  private static void writeRows(List<FieldVector> vectors, List<?> records) {
    Map<String, Integer> index = new HashMap<>();
    for (int c = 0; c < vectors.size(); c++) {
      index.put(vectors.get(c).getName(), c);
    }
    int columns = vectors.size();
    boolean[] seen = new boolean[columns];
    for (int i = 0; i < records.size(); i++) {
      Map<?, ?> record = (Map<?, ?>) records.get(i);
      if (record.size() < columns) {
        Arrays.fill(seen, false);
      }
      for (Map.Entry<?, ?> e : record.entrySet()) {
        int c = index.get(e.getKey());
        ArrowVectors.set(vectors.get(c), i, e.getValue());
        seen[c] = true;
      }
      if (record.size() < columns) {
        // A key this record lacks is null in its column, as the spec says.
        for (int c = 0; c < columns; c++) {
          if (!seen[c]) {
            ArrowVectors.set(vectors.get(c), i, null);
          }
        }
      }
    }
  }

  /** Decodes an Arrow IPC stream to an {@link ArrowTable}. */
  @Override
  public ArrowTable decode(ByteBuffer payload) throws CorruptedPayloadException {
    ArrowFraming.check(payload);
    List<Map<String, Object>> rows = new ArrayList<>();
    try (BufferAllocator alloc = root.newChildAllocator("arrow-decode", 0, Long.MAX_VALUE);
        ArrowStreamReader reader = new ArrowStreamReader(new ByteBufferChannel(payload), alloc)) {
      VectorSchemaRoot vsr = reader.getVectorSchemaRoot();
      Schema schema = vsr.getSchema();
      for (Field f : schema.getFields()) {
        String problem = ArrowVectors.unsupported(f);
        if (problem != null) {
          throw CodecErrors.corrupted(
              payload, "Arrow column '" + f.getName() + "' has unsupported type " + problem, null);
        }
      }
      while (reader.loadNextBatch()) {
        ArrowVectors.appendRows(vsr.getFieldVectors(), vsr.getRowCount(), rows);
      }
      return new ArrowTable(schema, rows);
    } catch (CorruptedPayloadException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw CodecErrors.corrupted(payload, "invalid Arrow IPC stream: " + e, e);
    }
  }

  /** Releases the allocator; fails if Arrow memory is still in use (a leak). */
  @Override
  public void close() {
    root.close();
  }
}
