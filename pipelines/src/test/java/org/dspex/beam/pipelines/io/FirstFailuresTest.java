package org.dspex.beam.pipelines.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summary's first failure messages, read from the failures' shard files. */
class FirstFailuresTest {
  @TempDir Path dir;

  private static String failure(String file, long line, String type, String input, String message) {
    return "{\"line\":" + line + ",\"input\":" + input + ",\"error_type\":\"" + type + "\",\"message\":\""
        + message + "\",\"attempts\":0,\"file\":\"" + file + "\"}\n";
  }

  private List<MatchResult.Metadata> shards(String... contents) throws Exception {
    List<MatchResult.Metadata> out = new ArrayList<>();
    for (int i = 0; i < contents.length; i++) {
      Path p = Files.writeString(dir.resolve("shard-" + i + ".jsonl"), contents[i], StandardCharsets.UTF_8);
      out.add(FileSystems.matchSingleFileSpec(p.toString()));
    }
    return out;
  }

  @Test
  void givenShardsInAnyOrder_thenTheEarliestThreeByFileAndLine() throws Exception {
    String huge = "\"" + "x".repeat(5_000_000) + "\"";
    List<String> first = FirstFailures.read(shards(
        failure("/b.jsonl", 1, "Boom", "{\"id\":\"q\",\"nested\":[1,{\"a\":2}]}", "b first"),
        failure("/a.jsonl", 10, "InvalidJson", huge, "a ten") + failure("/a.jsonl", 9, "MissingField", "{}", "a nine"),
        failure("/a.jsonl", 100, "Late", "{}", "a hundred") + failure("/a.jsonl", 2, "FieldTypeError", "{}",
            "multi\\n  line")));
    assertEquals(List.of("line 2: FieldTypeError: multi line", "line 9: MissingField: a nine",
        "line 10: InvalidJson: a ten"), first);
  }

  @Test
  void givenALongMessageAndABrokenShard_thenTheMessageIsCutAndTheBrokenShardOnlyGoesUnshown() throws Exception {
    List<String> first = FirstFailures.read(shards(failure("/a.jsonl", 3, "Boom", "{}", "m".repeat(500)),
        "{\"line\": 1, \"message\": [unterminated\n"));
    assertEquals(1, first.size());
    assertEquals("line 3: Boom: " + "m".repeat(FirstFailures.MESSAGE_CHARS - 3) + "...", first.get(0));
  }
}
