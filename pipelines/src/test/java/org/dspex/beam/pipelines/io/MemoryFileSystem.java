package org.dspex.beam.pipelines.io;

import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;
import org.apache.beam.sdk.io.FileSystem;
import org.apache.beam.sdk.io.FileSystemRegistrar;
import org.apache.beam.sdk.io.fs.CreateOptions;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * A Beam file system for scheme {@value #SCHEME} that keeps its objects in this JVM, shaped like
 * an object store ({@code gs://}, {@code s3://}): flat names, folders only as prefixes, globs
 * matched against names. It lets the tests run whole jobs against a non-local file system without
 * a network; the DirectRunner runs in this JVM, so the pipeline and the test see the same objects.
 */
public final class MemoryFileSystem extends FileSystem<MemoryFileSystem.Id> {
  /** The scheme. */
  public static final String SCHEME = "mem";

  private static final Map<String, byte[]> OBJECTS = new ConcurrentSkipListMap<>();
  private static final java.util.concurrent.atomic.AtomicLong READ = new java.util.concurrent.atomic.AtomicLong();

  /** Bytes read from the objects so far, by every reader. */
  public static long bytesRead() {
    return READ.get();
  }

  /** The objects now, name to content, in name order. */
  public static Map<String, byte[]> objects() {
    return new TreeMap<>(OBJECTS);
  }

  /** Removes every object. */
  public static void clear() {
    OBJECTS.clear();
  }

  /** Registers the file system with Beam (through {@code META-INF/services}). */
  public static final class Registrar implements FileSystemRegistrar {
    @Override
    public Iterable<FileSystem<?>> fromOptions(PipelineOptions options) {
      return List.of(new MemoryFileSystem());
    }
  }

  /** An object name, or a folder (a prefix ending in {@code /}). */
  public static final class Id implements ResourceId {
    private static final long serialVersionUID = 1L;
    private final String spec;

    Id(String spec) {
      this.spec = spec;
    }

    @Override
    public ResourceId resolve(String other, ResolveOptions options) {
      String s = spec + other;
      return new Id(options == ResolveOptions.StandardResolveOptions.RESOLVE_DIRECTORY && !s.endsWith("/") ? s + "/" : s);
    }

    @Override
    public ResourceId getCurrentDirectory() {
      return isDirectory() ? this : new Id(spec.substring(0, spec.lastIndexOf('/') + 1));
    }

    @Override
    public String getScheme() {
      return SCHEME;
    }

    @Override
    public String getFilename() {
      String s = isDirectory() ? spec.substring(0, spec.length() - 1) : spec;
      return s.substring(s.lastIndexOf('/') + 1);
    }

    @Override
    public boolean isDirectory() {
      return spec.endsWith("/");
    }

    @Override
    public String toString() {
      return spec;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Id && ((Id) o).spec.equals(spec);
    }

    @Override
    public int hashCode() {
      return spec.hashCode();
    }
  }

  @Override
  protected List<MatchResult> match(List<String> specs) {
    List<MatchResult> results = new ArrayList<>();
    for (String spec : specs) {
      Pattern glob = glob(spec);
      List<MatchResult.Metadata> found = new ArrayList<>();
      OBJECTS.forEach((name, bytes) -> {
        if (glob.matcher(name).matches()) {
          found.add(MatchResult.Metadata.builder().setResourceId(new Id(name)).setSizeBytes(bytes.length)
              .setIsReadSeekEfficient(false).setLastModifiedMillis(0).build());
        }
      });
      results.add(found.isEmpty()
          ? MatchResult.create(MatchResult.Status.NOT_FOUND, new FileNotFoundException(spec))
          : MatchResult.create(MatchResult.Status.OK, found));
    }
    return results;
  }

  /** {@code **} any characters, {@code *} and {@code ?} within one name, the rest literally. */
  private static Pattern glob(String spec) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < spec.length(); i++) {
      char c = spec.charAt(i);
      if (spec.startsWith("**", i)) {
        re.append(".*");
        i++;
      } else if (c == '*') {
        re.append("[^/]*");
      } else if (c == '?') {
        re.append("[^/]");
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString());
  }

  @Override
  protected WritableByteChannel create(Id id, CreateOptions options) {
    return Channels.newChannel(new ByteArrayOutputStream() {
      @Override
      public void close() {
        OBJECTS.put(id.spec, toByteArray());
      }
    });
  }

  /** A channel that reads and seeks, as object stores' read channels do (GCS's is seekable). */
  @Override
  protected ReadableByteChannel open(Id id) throws IOException {
    byte[] bytes = OBJECTS.get(id.spec);
    if (bytes == null) {
      throw new FileNotFoundException(id.spec);
    }
    return new SeekableByteChannel() {
      private long position;
      private boolean open = true;

      @Override
      public int read(ByteBuffer dst) {
        if (position >= bytes.length) {
          return -1;
        }
        int n = (int) Math.min(dst.remaining(), bytes.length - position);
        dst.put(bytes, (int) position, n);
        position += n;
        READ.addAndGet(n);
        return n;
      }

      @Override
      public int write(ByteBuffer src) throws IOException {
        throw new NonWritableChannelException();
      }

      @Override
      public long position() {
        return position;
      }

      @Override
      public SeekableByteChannel position(long newPosition) {
        position = newPosition;
        return this;
      }

      @Override
      public long size() {
        return bytes.length;
      }

      @Override
      public SeekableByteChannel truncate(long size) {
        throw new NonWritableChannelException();
      }

      @Override
      public boolean isOpen() {
        return open;
      }

      @Override
      public void close() {
        open = false;
      }
    };
  }

  @Override
  protected void copy(List<Id> from, List<Id> to) throws IOException {
    for (int i = 0; i < from.size(); i++) {
      byte[] bytes = OBJECTS.get(from.get(i).spec);
      if (bytes == null) {
        throw new FileNotFoundException(from.get(i).spec);
      }
      OBJECTS.put(to.get(i).spec, bytes);
    }
  }

  @Override
  protected void rename(List<Id> from, List<Id> to, MoveOptions... options) throws IOException {
    copy(from, to);
    for (Id f : from) {
      OBJECTS.remove(f.spec);
    }
  }

  @Override
  protected void delete(Collection<Id> ids) {
    for (Id id : ids) {
      OBJECTS.remove(id.spec);
    }
  }

  @Override
  protected Id matchNewResource(String spec, boolean isDirectory) {
    return new Id(isDirectory && !spec.endsWith("/") ? spec + "/" : spec);
  }

  @Override
  protected String getScheme() {
    return SCHEME;
  }
}
