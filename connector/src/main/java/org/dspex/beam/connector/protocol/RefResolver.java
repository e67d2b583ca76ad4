package org.dspex.beam.connector.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Resolves REF frames against a spill directory ({@code docs/protocol.md} section 4) and maps the
 * referenced bytes read-only, without copying them.
 *
 * <p>A REF names a file chosen by the other process, so its path is treated as untrusted: an
 * absolute path, a {@code ..} component, or a real path (after symbolic links) outside the spill
 * directory is {@link RefOutsideSpillDirException}; a missing file {@link RefNotFoundException};
 * an offset or length outside the file {@link RefOutOfRangeException}; a length above {@code
 * max_ref_bytes} {@link FrameTooLongException}, checked before the file is touched.
 *
 * <p>Java maps at most 2 GiB into one buffer, so a longer REF is refused with {@link
 * FrameTooLongException} even below {@code max_ref_bytes}. Thread-safe.
 */
public final class RefResolver {
  /** The largest range Java can map into one buffer. */
  public static final long MAX_MAPPED_BYTES = Integer.MAX_VALUE;

  private final Path spillDir;
  private final Path realSpillDir;
  private final long maxRefBytes;

  /**
   * A resolver for {@code spillDir}, which must exist.
   *
   * @throws IOException when the directory's real path cannot be found
   */
  public RefResolver(Path spillDir, long maxRefBytes) throws IOException {
    Checks.checkArgument(maxRefBytes > 0, "max_ref_bytes must be positive, was %s", maxRefBytes);
    this.spillDir = spillDir.toAbsolutePath();
    this.realSpillDir = spillDir.toRealPath();
    this.maxRefBytes = maxRefBytes;
  }

  /** The directory REF paths are relative to. */
  public Path spillDir() {
    return spillDir;
  }

  /**
   * Validates a REF and returns the real path of its file; nothing is opened.
   *
   * @throws ProtocolException a {@code Ref*} error or {@code FrameTooLong}, see the class doc
   */
  public Path validate(RefPointer ref) throws ProtocolException {
    String p = ref.path();
    if (p.isEmpty() || p.startsWith("/") || p.startsWith("\\") || Path.of(p).isAbsolute()) {
      throw new RefOutsideSpillDirException("REF path '" + p + "' is absolute (or empty); it must be relative to the spill directory");
    }
    for (Path part : Path.of(p)) {
      if (part.toString().equals("..")) {
        throw new RefOutsideSpillDirException("REF path '" + p + "' has a '..' component");
      }
    }
    if (ref.length() > maxRefBytes) {
      throw new FrameTooLongException(
          String.format(
              "REF length %d exceeds max_ref_bytes %d (path '%s')", ref.length(), maxRefBytes, p));
    }
    if (ref.offset() < 0 || ref.length() < 0) {
      throw new RefOutOfRangeException(
          String.format(
              "REF offset %d / length %d must not be negative (path '%s')", ref.offset(), ref.length(), p));
    }
    Path file = spillDir.resolve(p);
    Path real;
    try {
      real = file.toRealPath();
    } catch (NoSuchFileException e) {
      throw new RefNotFoundException("REF file '" + p + "' does not exist in " + spillDir, e);
    } catch (IOException e) {
      throw new RefNotFoundException("REF file '" + p + "' cannot be resolved in " + spillDir + ": " + e, e);
    }
    if (!real.startsWith(realSpillDir) || real.equals(realSpillDir)) {
      throw new RefOutsideSpillDirException(
          "REF path '" + p + "' leads to " + real + ", outside the spill directory " + realSpillDir);
    }
    if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
      throw new RefNotFoundException("REF path '" + p + "' is not a regular file in " + spillDir);
    }
    return real;
  }

  /**
   * Validates a REF and maps its range read-only. The mapping stays valid after the file is
   * deleted.
   *
   * @throws ProtocolException a {@code Ref*} error or {@code FrameTooLong}, see the class doc
   * @throws IOException when the file cannot be read
   */
  public ByteBuffer map(RefPointer ref) throws IOException {
    return map(ref, validate(ref));
  }

  /** Maps the range of an already {@linkplain #validate validated} REF whose real path is {@code file}. */
  public ByteBuffer map(RefPointer ref, Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (ref.offset() > size || ref.length() > size - ref.offset()) {
        throw new RefOutOfRangeException(
            String.format(
                "REF range offset %d length %d lies outside '%s' (%d bytes)",
                ref.offset(), ref.length(), ref.path(), size));
      }
      if (ref.length() > MAX_MAPPED_BYTES) {
        throw new FrameTooLongException(
            String.format(
                "REF length %d is above %d, the most Java maps into one buffer (path '%s')",
                ref.length(), MAX_MAPPED_BYTES, ref.path()));
      }
      if (ref.length() == 0) {
        return ByteBuffer.allocate(0);
      }
      MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, ref.offset(), ref.length());
      return mapped;
    }
  }
}
