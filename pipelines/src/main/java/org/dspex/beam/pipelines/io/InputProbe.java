package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.ReadableByteChannel;
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
  /** Local inputs up to this size are counted up front. */
  public static final long COUNT_LIMIT_BYTES = 2L << 30;

  private final String pattern;
  private final InputFormat format;
  private final List<String> files;
  private final boolean replay;
  private final List<Map<String, Object>> samples;
  private final Set<String> fieldNames;
  private final long total;

  private InputProbe(String pattern, InputFormat format, List<String> files, boolean replay,
      List<Map<String, Object>> samples, Set<String> fieldNames, long total) {
    this.pattern = pattern;
    this.format = format;
    this.files = List.copyOf(files);
    this.replay = replay;
    this.samples = List.copyOf(samples);
    this.fieldNames = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(fieldNames));
    this.total = total;
  }

  /**
   * Probes {@code pattern} (a file or glob).
   *
   * @throws InputException when nothing matches, the format is unknown, or the first file cannot be
   *     read as that format (e.g. not Parquet)
   */
  public static InputProbe of(String pattern, String explicitFormat) throws InputException {
    InputFormat format;
    try {
      format = InputFormat.of(pattern, explicitFormat);
    } catch (IllegalArgumentException e) {
      throw new InputException(e.getMessage());
    }
    List<String> files = new ArrayList<>();
    long bytes = 0;
    boolean local = true;
    try {
      MatchResult m = FileSystems.match(pattern, EmptyMatchTreatment.ALLOW);
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
    try (SeekableByteChannel ch = open(first)) {
      RecordReader sniff = RecordReader.open(format, ch, false);
      if (sniff instanceof CsvRecordReader) {
        names.addAll(((CsvRecordReader) sniff).header());
      }
      SourceRecord r;
      while (samples.size() < SAMPLE && (r = sniff.next()) != null) {
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
    for (Map<String, Object> s : samples) {
      names.addAll(s.keySet());
    }
    long total = local && bytes <= COUNT_LIMIT_BYTES ? count(files, format, replay) : -1;
    return new InputProbe(pattern, format, files, replay, samples, names, total);
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
    ReadableByteChannel ch = FileSystems.open(FileSystems.matchNewResource(file, false));
    if (ch instanceof SeekableByteChannel) {
      return (SeekableByteChannel) ch;
    }
    ch.close();
    throw new IOException("the file system of '" + file + "' cannot seek");
  }

  /** Records in the local files; -1 when they cannot be counted. */
  private static long count(List<String> files, InputFormat format, boolean replay) {
    long n = 0;
    for (String f : files) {
      try (SeekableByteChannel ch = open(f)) {
        if (format == InputFormat.PARQUET) {
          try (ParquetFileReader r = ParquetFileReader.open(new ChannelInputFile(ch))) {
            n += r.getRecordCount();
          }
          continue;
        }
        if (format == InputFormat.JSONL) {
          try (var lines = Utf8Lines.reader(java.nio.channels.Channels.newInputStream(ch))) {
            n += lines.lines().filter(l -> !l.isBlank()).count();
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

  /** The pattern as given. */
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
