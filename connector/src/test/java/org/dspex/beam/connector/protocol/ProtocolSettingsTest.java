package org.dspex.beam.connector.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;
import org.junit.jupiter.api.Test;

class ProtocolSettingsTest {
  @Test
  void givenDefaults_thenValuesOfTheSpecification() {
    ProtocolSettings s = ProtocolSettings.defaults();
    assertEquals(268_435_456, s.maxFrameBytes());
    assertEquals(16L << 30, s.maxRefBytes());
    // From bench/run codecs (README, Performance): JSON stops paying above 3 records, Arrow
    // starts paying between 1,000 and 10,000.
    assertEquals(3, s.jsonMaxRecords());
    assertEquals(10_000, s.arrowMinRecords());
    assertEquals(64L << 20, s.refMinBytes());
  }

  @Test
  void givenWith_thenCopyAndOriginalUnchanged() {
    ProtocolSettings s = ProtocolSettings.defaults();
    ProtocolSettings t = s.withArrowMinRecords(10).withJsonMaxRecords(0).withRefMinBytes(1).withMaxFrameBytes(5).withMaxRefBytes(7);
    assertNotSame(s, t);
    assertEquals(10_000, s.arrowMinRecords());
    assertEquals(List.of(5, 7L, 0, 10, 1L), List.of(t.maxFrameBytes(), t.maxRefBytes(), t.jsonMaxRecords(), t.arrowMinRecords(), t.refMinBytes()));
  }

  @Test
  void givenBadValue_thenRefusedAtOnceNamingSettingAndValue() {
    ProtocolSettings s = ProtocolSettings.defaults();
    assertEquals("max_frame_bytes must be in 1..2147483639, was 0", assertThrows(IllegalArgumentException.class, () -> s.withMaxFrameBytes(0)).getMessage());
    assertEquals("max_ref_bytes must be positive, was -1", assertThrows(IllegalArgumentException.class, () -> s.withMaxRefBytes(-1)).getMessage());
    assertEquals("json_max_records must be >= 0, was -2", assertThrows(IllegalArgumentException.class, () -> s.withJsonMaxRecords(-2)).getMessage());
    assertEquals("arrow_min_records must be positive, was 0", assertThrows(IllegalArgumentException.class, () -> s.withArrowMinRecords(0)).getMessage());
    assertEquals("ref_min_bytes must be positive, was 0", assertThrows(IllegalArgumentException.class, () -> s.withRefMinBytes(0)).getMessage());
  }

  @Test
  void givenSettings_thenHelloArgsByWireName() {
    Map<String, Object> args = ProtocolSettings.defaults().toHelloArgs();
    assertEquals(List.of("max_frame_bytes", "max_ref_bytes", "json_max_records", "arrow_min_records", "ref_min_bytes"), List.copyOf(args.keySet()));
    assertEquals(268_435_456L, args.get("max_frame_bytes"));
  }

  @Test
  void givenWireNames_thenFormats() {
    assertEquals(FormatChoice.forced(ContentFormat.MSGPACK), FormatChoice.fromWireName("msgpack"));
    assertEquals(FormatChoice.REF, FormatChoice.fromWireName("ref"));
    assertEquals(null, ContentFormat.ofWireName("ref"));
    assertEquals(
        "unknown format 'xml'; known: " + String.join(", ", FormatChoice.wireNames()),
        assertThrows(IllegalArgumentException.class, () -> FormatChoice.fromWireName("xml")).getMessage());
  }
}
