package org.dspex.beam.pipelines.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./dspex embed} over an input larger than its heap could hold: the command reads it in
 * checkpointed chunks and holds no record longer than its chunk takes to pass, so 200,000 records
 * run in a 96 MiB heap, which the reading that held each file's records (and grouped them) ran out
 * of with 150,000. Most records fail at read (no text field), so the test is about the reading and
 * the failures, not the model; every 50th reaches the model ({@link TinyModel}).
 */
class LargeInputIT {
  private static final int RECORDS = 200_000;
  private static final int EVERY = 50;
  private static final Pattern LINE = Pattern.compile("^\\{\"line\":(\\d+),");

  @TempDir Path dir;

  @Test
  void given200000RecordsInA96MiBHeap_whenEmbedded_thenEveryRecordIsInTheOutputOrTheFailuresOnce()
      throws Exception {
    Path model = TinyModel.create(dir.resolve("tiny-model"));
    try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("in.jsonl"), StandardCharsets.UTF_8)) {
      for (int i = 0; i < RECORDS; i++) {
        w.write(i % EVERY == 0 ? "{\"id\": \"r" + i + "\", \"text\": \"record number " + i + " says hello\"}\n"
            : "{\"id\": \"r" + i + "\", \"body\": \"record number " + i + " has no text and fails at read\"}\n");
      }
    }
    Dspex.Run r = Dspex.run(dir, Map.of("DSPEX_JAVA_OPTS", "-Xmx96m"), "embed", "--input", "in.jsonl",
        "--output", "out.jsonl", "--model", model.toString(), "--max-failure-rate", "1")
        .expectExit(0).expectNoStackTrace();
    int written = RECORDS / EVERY;
    assertTrue(r.stderr().contains(String.format("200,000: %,d written to %s, %,d failed", written,
        dir.resolve("out.jsonl"), RECORDS - written)), r::toString);
    try (Stream<String> lines = Files.lines(dir.resolve("out.jsonl"))) {
      assertEquals(written, lines.count());
    }
    BitSet failed = new BitSet();
    try (BufferedReader f = Files.newBufferedReader(dir.resolve("out.jsonl.failures.jsonl"))) {
      for (String l = f.readLine(); l != null; l = f.readLine()) {
        Matcher m = LINE.matcher(l);
        assertTrue(m.find() && l.contains("\"error_type\":\"MissingField\""), l);
        int line = Integer.parseInt(m.group(1));
        assertTrue(line % EVERY != 1 && !failed.get(line), "line " + line + " failed once, and only a record without text");
        failed.set(line);
      }
    }
    assertEquals(RECORDS - written, failed.cardinality());
  }
}
