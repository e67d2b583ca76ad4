package org.dspex.beam.pipelines.io;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Top;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * The summary's first failure messages, collected in the pipeline: of the failure rows ({@link
 * FailureRecords#SCHEMA}), the {@value #COUNT} earliest by input file and line, each as {@code
 * line N: Type: message} (the message on one line, cut at {@value #MESSAGE_CHARS} characters),
 * combined into one small list and written as a JSON array to one file. Only the message travels,
 * never the record, however large.
 */
public final class FirstFailures extends PTransform<PCollection<Row>, POutput> {
  private static final long serialVersionUID = 1L;

  /** Messages kept. */
  public static final int COUNT = 3;
  /** Longest message shown. */
  public static final int MESSAGE_CHARS = 160;

  private final String file;

  /** Writes the first messages to {@code file} (a Beam resource spec). */
  public FirstFailures(String file) {
    this.file = file;
  }

  @Override
  public POutput expand(PCollection<Row> failures) {
    return failures
        .apply("Message", MapElements.into(TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.strings()))
            .via(FirstFailures::keyed))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
        .apply("Earliest", Top.of(COUNT, new Later()))
        .apply("Write", ParDo.of(new WriteFn(file)));
  }

  /** The messages written to {@code file}; none when it does not exist. */
  public static List<String> read(String file) throws IOException {
    if (!BeamFiles.exists(file)) {
      return List.of();
    }
    try (BufferedReader r = BeamFiles.reader(file)) {
      return Json.MAPPER.readValue(r, new TypeReference<List<String>>() {});
    }
  }

  /** A failure as (file and zero-padded line, so that keys sort by position; its message line). */
  static KV<String, String> keyed(Row f) {
    String m = f.getString(FailureRecords.MESSAGE).replaceAll("\\s+", " ");
    m = m.length() > MESSAGE_CHARS ? m.substring(0, MESSAGE_CHARS - 3) + "..." : m;
    long line = f.getInt64(FailureRecords.LINE);
    return KV.of(f.getString(FailureRecords.FILE) + "\u0000" + String.format(Locale.ROOT, "%019d", Math.max(0, line)),
        "line " + line + ": " + f.getString(FailureRecords.ERROR_TYPE) + ": " + m);
  }

  /** Orders later positions first, so that {@link Top} keeps the earliest. */
  static final class Later implements Comparator<KV<String, String>>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(KV<String, String> a, KV<String, String> b) {
      return b.getKey().compareTo(a.getKey());
    }
  }

  /** Writes the list's messages as a JSON array. */
  static final class WriteFn extends DoFn<List<KV<String, String>>, Void> {
    private static final long serialVersionUID = 1L;
    private final String file;

    WriteFn(String file) {
      this.file = file;
    }

    @ProcessElement
    public void process(@Element List<KV<String, String>> first) throws IOException {
      List<String> messages = new ArrayList<>();
      for (KV<String, String> kv : first) {
        messages.add(kv.getValue());
      }
      BeamFiles.writeString(file, Json.write(messages));
    }
  }
}
