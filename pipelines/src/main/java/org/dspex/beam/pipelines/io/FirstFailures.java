package org.dspex.beam.pipelines.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;

/**
 * The summary's first failure messages: of the failure records in the failures' shard files
 * ({@link FailureRecords}), the {@value #COUNT} earliest by input file and line, each as {@code
 * line N: Type: message} (the message on one line, cut at {@value #MESSAGE_CHARS} characters).
 *
 * <p>Read after the job with a streaming parser that keeps only those few: a record's {@code
 * input}, however large, is skipped unread, and a record it cannot parse is skipped (the counts
 * come from the job's counters, so nothing is missed there). Collecting them in the pipeline
 * would cost a shuffle, and on Flink every blocking shuffle takes its share of the task
 * managers' network buffers.
 */
public final class FirstFailures {
  /** Messages kept. */
  public static final int COUNT = 3;
  /** Longest message shown. */
  public static final int MESSAGE_CHARS = 160;

  private FirstFailures() {}

  /** The first messages of the failure records in {@code shards}. */
  public static List<String> read(List<MatchResult.Metadata> shards) throws IOException {
    TreeMap<String, String> first = new TreeMap<>();
    for (MatchResult.Metadata m : shards) {
      try (InputStream in = Channels.newInputStream(FileSystems.open(m.resourceId()));
          JsonParser p = Json.MAPPER.getFactory().createParser(in)) {
        readRecords(p, first);
      }
    }
    return new ArrayList<>(first.values());
  }

  private static void readRecords(JsonParser p, TreeMap<String, String> first) throws IOException {
    try {
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        if (t != JsonToken.START_OBJECT) {
          p.skipChildren();
          continue;
        }
        Map<String, Object> f = fields(p);
        if (f.get(FailureRecords.LINE) instanceof Number line && f.get(FailureRecords.MESSAGE) instanceof String msg) {
          keep(first, String.valueOf(f.get(FailureRecords.FILE)), line.longValue(),
              String.valueOf(f.get(FailureRecords.ERROR_TYPE)), msg);
        }
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      // A shard the parser cannot follow: its messages are not shown, its records still counted.
    }
  }

  /** The scalar fields of the object {@code p} is at; nested values skipped without reading. */
  private static Map<String, Object> fields(JsonParser p) throws IOException {
    Map<String, Object> f = new TreeMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (FailureRecords.INPUT.equals(name) || v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
        p.skipChildren();
      } else if (v == JsonToken.VALUE_NUMBER_INT) {
        f.put(name, p.getLongValue());
      } else if (v == JsonToken.VALUE_STRING) {
        f.put(name, p.getText());
      }
    }
    return f;
  }

  private static void keep(TreeMap<String, String> first, String file, long line, String type, String message) {
    String m = message.replaceAll("\\s+", " ");
    m = m.length() > MESSAGE_CHARS ? m.substring(0, MESSAGE_CHARS - 3) + "..." : m;
    first.put(file + "\u0000" + String.format(Locale.ROOT, "%019d", Math.max(0, line)),
        "line " + line + ": " + type + ": " + m);
    if (first.size() > COUNT) {
      first.pollLastEntry();
    }
  }
}
