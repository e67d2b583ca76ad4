package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;

/**
 * JSONL shard files streamed into the command's part files: their lines in shard order, cut into
 * parts of roughly equal size at line ends (every part but the last holds at least its share of
 * the bytes, plus the rest of the line it ends in). A fixed buffer, whatever the sizes.
 */
final class JsonlParts {
  private static final int BUFFER = 1 << 16;

  private JsonlParts() {}

  /** Writes the lines of {@code shards} into exactly {@code parts} (each created, empty if need be). */
  static void write(List<MatchResult.Metadata> shards, List<String> parts) throws IOException {
    long total = 0;
    for (MatchResult.Metadata m : shards) {
      total += m.sizeBytes();
    }
    long share = (total + parts.size() - 1) / parts.size();
    byte[] buf = new byte[BUFFER];
    int last = parts.size() - 1;
    int part = 0;
    long inPart = 0;
    boolean atLineEnd = true;
    OutputStream out = BeamFiles.outputStream(parts.get(0));
    try {
      for (MatchResult.Metadata m : shards) {
        try (InputStream in = Channels.newInputStream(FileSystems.open(m.resourceId()))) {
          for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
            for (int from = 0; from < n; ) {
              if (part < last && inPart >= share && atLineEnd) {
                out.close();
                out = BeamFiles.outputStream(parts.get(++part));
                inPart = 0;
              }
              int to = n;
              if (part < last && inPart + (n - from) >= share) {
                // The part ends with the line in which its share is reached.
                int end = lineEnd(buf, from + (int) Math.max(0, share - inPart - 1), n);
                to = end < 0 ? n : end + 1;
              }
              out.write(buf, from, to - from);
              inPart += to - from;
              atLineEnd = buf[to - 1] == '\n';
              from = to;
            }
          }
        }
      }
    } finally {
      out.close();
    }
    while (part < last) {
      BeamFiles.create(parts.get(++part)).close();
    }
  }

  /** The index of the first line end in {@code buf[from, to)}, or -1. */
  private static int lineEnd(byte[] buf, int from, int to) {
    for (int i = from; i < to; i++) {
      if (buf[i] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
