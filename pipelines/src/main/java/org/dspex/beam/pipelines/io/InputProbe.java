package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.dspex.beam.transforms.signature.FieldType;

/**
 * What the command learns about its input before the job starts: the files a pattern matches, the
 * format, whether it is a failures file to replay, the field names and sample values of the first
 * records (to check the named fields and infer their types), and, for local files, the number of
 * records (for the ETA). Immutable once made.
 */
public final class InputProbe {
  /** Records sampled from the first file. */
  public static final int SAMPLE = 100;
  /** The default longest text line, in bytes (64 MiB): {@code --max-line-bytes}. */
  public static final int DEFAULT_MAX_LINE_BYTES = Utf8LineReader.DEFAULT_MAX_LINE_BYTES;
  /** Local inputs up to this size are counted up front. */
  public static final long COUNT_LIMIT_BYTES = 2L << 30;

  private final String pattern;
  private final InputFormat format;
  private final List<String> files;
  private final boolean replay;
  private final List<Map<String, Object>> samples;
  private final Set<String> fieldNames;
  private final long total;
  private final int maxLineBytes;

  private InputProbe(String pattern, InputFormat format, List<String> files, boolean replay,
      List<Map<String, Object>> samples, Set<String> fieldNames, long total, int maxLineBytes) {
    this.pattern = pattern;
    this.format = format;
    this.files = List.copyOf(files);
    this.replay = replay;
    this.samples = List.copyOf(samples);
    this.fieldNames = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(fieldNames));
    this.total = total;
    this.maxLineBytes = maxLineBytes;
  }

  /**
   * Probes {@code pattern} (a file or glob).
   *
   * @throws InputException when nothing matches, the format is unknown, or the first file cannot be
   *     read as that format (e.g. not Parquet)
   */
  public static InputProbe of(String pattern, String explicitFormat) throws InputException {
    return of(pattern, explicitFormat, DEFAULT_MAX_LINE_BYTES);
  }

  /**
   * Probes {@code pattern} (a file or glob), reading text lines of at most {@code maxLineBytes}
   * (longer ones fail as {@code LineTooLong} records, here and in the job).
   *
   * @throws InputException when nothing matches, the format is unknown, or the first file cannot be
   *     read as that format (e.g. not Parquet, UTF-16 text, no records)
   */
  public static InputProbe of(String pattern, String explicitFormat, int maxLineBytes) throws InputException {
    InputFormat format;
    try {
      format = InputFormat.of(pattern, explicitFormat);
    } catch (IllegalArgumentException e) {
      throw new InputException(e.getMessage());
    }
    // The workers of a cluster read the files from their own working directory: a relative path must
    // mean what it means here, so the job gets it made absolute against the caller.
    String spec = BeamFiles.absolute(pattern);
    List<String> files = new ArrayList<>();
    long bytes = 0;
    boolean local = true;
    try {
      MatchResult m = FileSystems.match(spec, EmptyMatchTreatment.ALLOW);
      if (m.status() == MatchResult.Status.OK) {
        for (MatchResult.Metadata md : m.metadata()) {
          files.add(md.resourceId().toString());
          bytes += md.sizeBytes();
          local &= "file".equals(md.resourceId().getScheme());
        }
      }
    } catch (IOException | IllegalArgumentException e) {
      throw new InputException("cannot list input '" + pattern + "': " + e.getMessage());
    }
    if (files.isEmpty()) {
      throw new InputException("input '" + pattern + "' does not exist (no file matches)");
    }
    files.sort(null);
    List<Map<String, Object>> samples = new ArrayList<>();
    Set<String> names = new LinkedHashSet<>();
    boolean replay = false;
    String first = files.get(0);
    if (format != InputFormat.PARQUET) {
      checkUtf8Text(first);
    }
    SourceRecord firstFailure = null;
    long lines = 0;
    try (SeekableByteChannel ch = open(first)) {
      RecordReader sniff = RecordReader.open(first, format, ch, false, maxLineBytes);
      if (sniff instanceof CsvRecordReader) {
        names.addAll(((CsvRecordReader) sniff).header());
      }
      SourceRecord r;
      // Bounded: a file whose first lines all fail is not read to its end here.
      while (samples.size() < SAMPLE && lines < 10L * SAMPLE && (r = sniff.next()) != null) {
        lines++;
        if (!r.ok() && firstFailure == null) {
          firstFailure = r;
        }
        if (r.ok()) {
          if (samples.isEmpty() && format == InputFormat.JSONL && ReplayReader.isFailureRecord(r.fields())) {
            replay = true;
          }
          samples.add(r.fields());
        }
      }
      sniff.close();
    } catch (IOException | RuntimeException e) {
      throw new InputException("cannot read '" + first + "' as " + format + ": " + e.getMessage());
    }
    if (replay) {
      samples = replaySamples(first);
      names.clear();
    }
    if (samples.isEmpty() && names.isEmpty()) {
      throw new InputException(noRecords(first, format, lines, firstFailure));
    }
    for (Map<String, Object> s : samples) {
      names.addAll(s.keySet());
    }
    long total = local && bytes <= COUNT_LIMIT_BYTES ? count(files, format, replay) : -1;
    return new InputProbe(spec, format, files, replay, samples, names, total, maxLineBytes);
  }

  /** The bytes looked at for a byte-order mark or NUL bytes. */
  private static final int TEXT_CHECK_BYTES = 4096;

  /**
   * Refuses a text input that is not UTF-8 before any record is read: a UTF-16 or UTF-32 byte-order
   * mark, or NUL bytes (UTF-16 text without a mark, or a binary file), which would otherwise make
   * every line an unreadable record.
   */
  private static void checkUtf8Text(String file) throws InputException {
    byte[] head;
    try (SeekableByteChannel ch = open(file)) {
      head = java.nio.channels.Channels.newInputStream(ch).readNBytes(TEXT_CHECK_BYTES);
    } catch (IOException e) {
      throw new InputException("cannot read '" + file + "': " + e.getMessage());
    }
    String convert = "; dspex reads UTF-8: convert it first (e.g. iconv -f UTF-16 -t UTF-8)";
    if (head.length >= 2 && ((head[0] & 0xFF) == 0xFF && (head[1] & 0xFF) == 0xFE
        || (head[0] & 0xFF) == 0xFE && (head[1] & 0xFF) == 0xFF)) {
      throw new InputException("input '" + file + "' is UTF-16 or UTF-32 text (it starts with the byte-order mark "
          + String.format("%02X %02X", head[0] & 0xFF, head[1] & 0xFF) + ")" + convert);
    }
    for (int i = 0; i < head.length; i++) {
      if (head[i] == 0) {
        throw new InputException("input '" + file + "' holds NUL bytes (the first at byte " + (i + 1)
            + "), which UTF-8 text does not: it looks like UTF-16 text or a binary file" + convert);
      }
    }
  }

  /** Why the first file gave no record to learn fields from. */
  private static String noRecords(String file, InputFormat format, long records, SourceRecord firstFailure) {
    if (records == 0) {
      return "input '" + file + "' has no records: it is empty or holds only blank lines";
    }
    return "input '" + file + "' has no readable record among its first " + records + " as " + format
        + " (line " + firstFailure.line() + ": " + firstFailure.errorType() + ": " + firstFailure.message() + ")";
  }

  private static List<Map<String, Object>> replaySamples(String file) throws InputException {
    List<Map<String, Object>> samples = new ArrayList<>();
    try (SeekableByteChannel ch = open(file); RecordReader r = RecordReader.open(InputFormat.JSONL, ch, true)) {
      SourceRecord s;
      while (samples.size() < SAMPLE && (s = r.next()) != null) {
        if (s.ok()) {
          samples.add(s.fields());
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new InputException("cannot read failures file '" + file + "': " + e.getMessage());
    }
    return samples;
  }

  private static SeekableByteChannel open(String file) throws IOException {
    return BeamFiles.openSeekable(file);
  }

  /** Records in the local files; -1 when they cannot be counted. */
  private static long count(List<String> files, InputFormat format, boolean replay) {
    long n = 0;
    for (String f : files) {
      try (SeekableByteChannel ch = open(f)) {
        if (format == InputFormat.PARQUET) {
          try (ParquetFileReader r = ParquetFileReader.open(new ChannelInputFile(ch, f))) {
            n += r.getRecordCount();
          }
          continue;
        }
        if (format == InputFormat.JSONL) {
          try (Utf8LineReader lines = new Utf8LineReader(java.nio.channels.Channels.newInputStream(ch),
              Utf8LineReader.DEFAULT_MAX_LINE_BYTES)) {
            for (Utf8LineReader.Line l = lines.next(); l != null; l = lines.next()) {
              n += l.blank() ? 0 : 1;
            }
          }
          continue;
        }
        try (RecordReader r = RecordReader.open(format, ch, replay)) {
          while (r.next() != null) {
            n++;
          }
        }
      } catch (IOException | RuntimeException e) {
        return -1;
      }
    }
    return n;
  }

  /** The pattern, a local path made absolute against the working directory (what the job reads). */
  public String pattern() {
    return pattern;
  }

  /** The format. */
  public InputFormat format() {
    return format;
  }

  /** The matched files, sorted. */
  public List<String> files() {
    return files;
  }

  /** Whether the input is a failures file whose records are run again. */
  public boolean replay() {
    return replay;
  }

  /** The longest text line read, in bytes. */
  public int maxLineBytes() {
    return maxLineBytes;
  }

  /** Records in the input, or -1 when not counted (remote or very large inputs). */
  public long total() {
    return total;
  }

  /** Every field name seen in the header or the sampled records. */
  public Set<String> fieldNames() {
    return fieldNames;
  }

  /**
   * Checks that every one of {@code names} is a field of the input.
   *
   * @throws InputException naming the first unknown field, what it was given for, and the fields
   */
  public void requireFields(List<String> names, String what) throws InputException {
    for (String n : names) {
      if (!fieldNames.contains(n)) {
        throw new InputException("unknown field '" + n + "' (" + what + "): the input's fields are "
            + fieldNames);
      }
    }
  }

  /** The type of field {@code name} as the sampled records hold it. */
  public FieldType infer(String name) {
    List<Object> values = new ArrayList<>();
    for (Map<String, Object> s : samples) {
      values.add(s.get(name));
    }
    return Inference.infer(values);
  }

  /** A problem with the input that the user must fix: exit code 2. */
  public static final class InputException extends Exception {
    private static final long serialVersionUID = 1L;

    /** With a one-line message. */
    public InputException(String message) {
      super(message);
    }
  }

}
