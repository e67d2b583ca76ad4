package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * A worker's usage ledger ({@code docs/protocol.md} section 9.10): a file in a private directory
 * ({@code usage-*}, mode {@code 0700}) of the JVM's scratch root ({@link ScratchRoot#onDisk()}), named in
 * the worker's {@code hello}, where the worker writes down every LM call as it makes it. An
 * element's usage reaches the JVM in its stream chunk, which a worker that dies first never sends;
 * once the worker has ended, its ledger says what it paid for, and what its answers did not report
 * is counted ({@link WorkerStats#unreportedLmCalls()}). {@link #close()} deletes the directory.
 *
 * <p>The format, line by line after the header {@value #HEADER}: {@code s <call>} a call started,
 * {@code u <call> <prompt> <completion>} it reported usage (one call, these tokens), {@code e
 * <call>} it ended, {@code t <calls> <prompt> <completion>} totals of lines folded together. A call
 * that started and neither ended nor reported usage was in flight when the worker died: it counts
 * as a call with no tokens known. A last line without its newline and lines of unknown kinds are
 * skipped. {@code testdata/usage/ledger.txt} is a golden ledger both languages read.
 *
 * <p>A ledger left when the JVM exits with its worker still running goes with the scratch root,
 * which the JVM's shutdown hook deletes; those of a JVM that was killed go with its root, which the
 * next JVM sweeps.
 */
final class UsageLedger implements AutoCloseable {
  /** The first line of a ledger. */
  static final String HEADER = "dspex-usage-ledger 1";
  /** Prefix of the directories {@link #create()} makes in the scratch root. */
  static final String DIRECTORY_PREFIX = "usage-";

  private static final String FILE_NAME = "ledger";

  private final Path dir;
  private final Path file;

  private UsageLedger(Path dir) {
    this.dir = dir;
    this.file = dir.resolve(FILE_NAME);
  }

  /** What a ledger says was paid for: {@code paid} includes the {@code inFlight} calls. */
  record Totals(LmUsage paid, long inFlight) {}

  /** A new private directory in the JVM's scratch root for one worker's ledger. */
  static UsageLedger create() throws IOException {
    return new UsageLedger(ScratchRoot.onDisk().newDirectory(DIRECTORY_PREFIX));
  }

  /** The ledger file, as sent in {@code hello} ({@code usage_ledger}); the worker creates it. */
  Path file() {
    return file;
  }

  /** Reads the ledger: empty when the worker wrote none (a worker that keeps none, a V1 peer). */
  Totals read() throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return new Totals(LmUsage.ZERO, 0);
    }
    return parse(text, file.toString());
  }

  /** The totals of a ledger's text ({@code where} names it in the error). */
  static Totals parse(String text, String where) throws IOException {
    if (text.isEmpty()) {
      return new Totals(LmUsage.ZERO, 0);
    }
    if (!text.startsWith(HEADER + "\n")) {
      throw new IOException(where + " is not a usage ledger: it starts with "
          + text.substring(0, Math.min(40, text.length())).replace("\n", "\\n"));
    }
    long calls = 0;
    long prompt = 0;
    long completion = 0;
    Set<String> open = new HashSet<>();
    int at = HEADER.length() + 1;
    for (int end = text.indexOf('\n', at); end >= 0; at = end + 1, end = text.indexOf('\n', at)) {
      String line = text.substring(at, end);
      String[] f = line.split(" ");
      try {
        if (f[0].equals("s") && f.length == 2) {
          open.add(f[1]);
        } else if (f[0].equals("e") && f.length == 2) {
          open.remove(f[1]);
        } else if (f[0].equals("u") && f.length == 4) {
          open.remove(f[1]);
          calls++;
          prompt += Long.parseLong(f[2]);
          completion += Long.parseLong(f[3]);
        } else if (f[0].equals("t") && f.length == 4) {
          calls += Long.parseLong(f[1]);
          prompt += Long.parseLong(f[2]);
          completion += Long.parseLong(f[3]);
        }
        // Any other line is of a kind a newer worker writes: nothing this JVM counts.
      } catch (NumberFormatException e) {
        throw new IOException(where + " has a bad line: " + line, e);
      }
    }
    return new Totals(new LmUsage(calls + open.size(), prompt, completion), open.size());
  }

  /** Deletes the ledger and its directory. */
  @Override
  public void close() {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // Gone already, or not removable now; a directory left behind goes with the scratch root.
    }
  }

  @Override
  public String toString() {
    return file.toString();
  }
}
