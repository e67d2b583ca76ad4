package org.dspex.beam.pipelines.io;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.util.SerializableUtils;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The shard files a pipeline writes into a folder: one file per bundle the runner chose, each
 * streamed through a {@link FileIO.Sink} as the bundle's elements arrive (no grouping of the
 * records, so memory does not grow with the output), and a list of the files of committed
 * bundles, {@value #LIST} (or {@code shards-NAME.txt}, so that several writes share a folder). A
 * bundle names its file only once it has closed it, and a runner keeps what a bundle emitted only
 * when the bundle is committed, so the file of a failed or retried attempt never reaches the list
 * (it stays in the folder, which the command removes).
 */
public final class ShardFiles {
  /** The file listing the committed shards, one name a line. */
  public static final String LIST = "shards.txt";

  private ShardFiles() {}

  /** Writes every element through {@code sink} into shard files ({@code extension}) in the folder {@code dir}. */
  public static <T> PTransform<PCollection<T>, POutput> write(FileIO.Sink<T> sink, String dir, String extension) {
    return new Write<>(sink, dir, extension, LIST);
  }

  /**
   * {@link #write(FileIO.Sink, String, String)}, one of several writes into {@code dir}: its list
   * is {@code shards-NAME.txt} ({@code name} a word).
   */
  public static <T> PTransform<PCollection<T>, POutput> write(FileIO.Sink<T> sink, String dir, String extension,
      String name) {
    return new Write<>(sink, dir, extension, "shards-" + name + ".txt");
  }

  /**
   * The committed shard files in {@code dir}, of every write there, in name order; none when no
   * list exists (a job that wrote nothing there).
   *
   * @throws IOException when a listed file is missing
   */
  public static List<MatchResult.Metadata> list(String dir) throws IOException {
    TreeSet<String> names = new TreeSet<>();
    for (MatchResult.Metadata list : BeamFiles.match(dir + "shards*.txt")) {
      try (BufferedReader r = BeamFiles.reader(list.resourceId().toString())) {
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          if (!line.isEmpty()) {
            names.add(line);
          }
        }
      }
    }
    List<MatchResult.Metadata> files = new ArrayList<>();
    for (String name : names) {
      files.add(FileSystems.matchSingleFileSpec(dir + name));
    }
    return files;
  }

  private static final class Write<T> extends PTransform<PCollection<T>, POutput> {
    private static final long serialVersionUID = 1L;
    private final FileIO.Sink<T> sink;
    private final String dir;
    private final String extension;
    private final String list;

    Write(FileIO.Sink<T> sink, String dir, String extension, String list) {
      this.sink = sink;
      this.dir = dir;
      this.extension = extension;
      this.list = list;
    }

    @Override
    public POutput expand(PCollection<T> input) {
      return input
          .apply("WriteBundles", ParDo.of(new WriteBundleFn<>(sink, dir, extension)))
          .apply("Committed", Combine.globally(new Lines()))
          .apply("List", ParDo.of(new WriteListFn(dir + list)));
    }
  }

  /** Streams each bundle into a new file; emits the file's name when the bundle is done. */
  static final class WriteBundleFn<T> extends DoFn<T, String> {
    private static final long serialVersionUID = 1L;
    private final FileIO.Sink<T> prototype;
    private final String dir;
    private final String extension;
    private transient FileIO.@Nullable Sink<T> sink;
    private transient @Nullable WritableByteChannel channel;
    private transient @Nullable String name;

    WriteBundleFn(FileIO.Sink<T> sink, String dir, String extension) {
      this.prototype = sink;
      this.dir = dir;
      this.extension = extension;
    }

    @StartBundle
    public void start() throws IOException {
      // What a failed attempt left open on this instance.
      if (channel != null) {
        channel.close();
      }
      sink = null;
      channel = null;
      name = null;
    }

    @ProcessElement
    public void process(@Element T element) throws IOException {
      if (sink == null) {
        name = "shard-" + UUID.randomUUID() + extension;
        channel = BeamFiles.create(dir + name);
        sink = SerializableUtils.clone(prototype);
        sink.open(channel);
      }
      sink.write(element);
    }

    @FinishBundle
    public void finish(FinishBundleContext c) throws IOException {
      if (sink == null) {
        return;
      }
      sink.flush();
      channel.close();
      c.output(name, GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE);
      sink = null;
      channel = null;
      name = null;
    }
  }

  /** Joins names into lines (in any order: the list is sorted when read). */
  static final class Lines implements SerializableFunction<Iterable<String>, String> {
    private static final long serialVersionUID = 1L;

    @Override
    public String apply(Iterable<String> names) {
      StringBuilder b = new StringBuilder();
      for (String n : names) {
        if (!n.isEmpty()) {
          b.append(b.length() == 0 ? "" : "\n").append(n);
        }
      }
      return b.toString();
    }
  }

  /** Writes the list of committed shards. */
  static final class WriteListFn extends DoFn<String, Void> {
    private static final long serialVersionUID = 1L;
    private final String file;

    WriteListFn(String file) {
      this.file = file;
    }

    @ProcessElement
    public void process(@Element String names) throws IOException {
      BeamFiles.writeString(file, names.isEmpty() ? "" : names + "\n");
    }
  }
}
