package org.dspex.beam.connector.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContentFormatTest {
  @Test
  void givenTheRegistry_thenWireNamesFrameTypesAndMetricsOfTheSpec() {
    List<String> rows = new ArrayList<>();
    for (ContentFormat f : ContentFormat.values()) {
      rows.add(String.format("%s 0x%02x %s %s", f.wireName(), f.frameType(), f.carries(), f.metricName()));
    }
    assertEquals(
        List.of(
            "json 0x00 ANY_VALUE bytes_json",
            "msgpack 0x01 ANY_VALUE bytes_msgpack",
            "arrow 0x02 RECORDS bytes_arrow",
            "numpy 0x03 NUMERIC_ARRAYS bytes_numpy"),
        rows);
    assertEquals(List.of("json", "msgpack", "arrow", "numpy"), ContentFormat.wireNames());
    assertEquals("json, msgpack, arrow or numpy", ContentFormat.wireNamesInProse());
  }

  @Test
  void givenWhatEachCarries_thenHeadersInJsonAndMsgpackRecordsInAllButNumpy() {
    List<String> headers = new ArrayList<>();
    List<String> records = new ArrayList<>();
    for (ContentFormat f : ContentFormat.values()) {
      if (f.mayCarryHeader()) {
        headers.add(f.wireName());
      }
      if (f.carriesRecords()) {
        records.add(f.wireName());
      }
    }
    assertEquals(List.of("json", "msgpack"), headers);
    assertEquals(List.of("json", "msgpack", "arrow"), records);
  }

  @Test
  void givenWireNames_thenFormatsOrNull() {
    for (ContentFormat f : ContentFormat.values()) {
      assertSame(f, ContentFormat.ofWireName(f.wireName()));
    }
    assertNull(ContentFormat.ofWireName("ref"));
    assertNull(ContentFormat.ofWireName("auto"));
    assertNull(ContentFormat.ofWireName("JSON"));
  }

  @Test
  void givenCodecsFromTheRegistry_thenEachFormatHasItsOwnCodec() throws Exception {
    try (Codecs codecs = Codecs.create()) {
      for (ContentFormat f : ContentFormat.values()) {
        assertSame(f, codecs.forFormat(f).format(), f.wireName());
      }
      assertSame(codecs.json(), codecs.forFormat(ContentFormat.JSON));
      assertSame(codecs.arrow(), codecs.forFormat(ContentFormat.ARROW));
    }
  }

  @Test
  void givenANamedBody_thenArrowMakesAListOfScalarsOneColumnOfThatName() throws Exception {
    try (ArrowCodec arrow = new ArrowCodec()) {
      ArrowTable t = arrow.decode(arrow.encode(List.of("a", "b"), "texts"));
      assertEquals(List.of("texts"), t.columnNames());
      assertEquals(List.of("a", "b"), t.column("texts"));
    }
  }
}
