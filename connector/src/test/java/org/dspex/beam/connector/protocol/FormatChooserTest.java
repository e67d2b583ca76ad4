package org.dspex.beam.connector.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.codec.NdArray;
import org.dspex.beam.connector.protocol.FormatChooser.Placement;
import org.junit.jupiter.api.Test;

class FormatChooserTest {
  // The rules are tested at fixed thresholds, so that retuning the defaults from the codec
  // benchmark does not rewrite these cases.
  private final FormatChooser chooser =
      new FormatChooser(
          ProtocolSettings.defaults().withJsonMaxRecords(16).withArrowMinRecords(1000));

  private static List<Map<String, Object>> records(int n, Object value) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Map.of("q", "question " + i, "v", value));
    }
    return out;
  }

  @Test
  void givenNumericArrays_thenNumpy() {
    for (Object o : List.of(new float[2][2], new float[2], new double[1][1], new double[3], new long[2], new int[1], NdArray.ofInts(new int[] {1}))) {
      assertEquals(ContentFormat.NUMPY, chooser.autoContentFormat(o), o.getClass().getSimpleName());
    }
  }

  @Test
  void givenRecordLists_thenJsonUpTo16ArrowFrom1000ElseMsgpack() {
    assertEquals(ContentFormat.JSON, chooser.autoContentFormat(records(16, 1)));
    assertEquals(ContentFormat.MSGPACK, chooser.autoContentFormat(records(17, 1)));
    assertEquals(ContentFormat.MSGPACK, chooser.autoContentFormat(records(999, 1)));
    assertEquals(ContentFormat.ARROW, chooser.autoContentFormat(records(1000, 1)));
  }

  @Test
  void givenSmallRecordsWithNanOrBytes_thenMsgpack() {
    assertEquals(ContentFormat.MSGPACK, chooser.autoContentFormat(records(2, Double.NaN)));
    assertEquals(ContentFormat.MSGPACK, chooser.autoContentFormat(records(2, new byte[] {1})));
  }

  @Test
  void givenManyRecordsWithoutArrowTypes_thenMsgpack() {
    List<Map<String, Object>> mixed = new ArrayList<>(records(999, 1));
    mixed.add(Map.of("q", 5, "v", 1));
    assertEquals(ContentFormat.MSGPACK, chooser.autoContentFormat(mixed));
    assertEquals(ContentFormat.MSGPACK, chooser.autoContentFormat(records(1000, Map.of("nested", 1))));
  }

  @Test
  void givenOtherValues_thenJsonWhenSmallAndSafeElseMsgpackAndLongStringListsArrow() {
    assertEquals(ContentFormat.JSON, chooser.autoContentFormat(List.of("a", "b")));
    assertEquals(ContentFormat.MSGPACK, chooser.autoContentFormat(Collections.nCopies(17, "a")));
    assertEquals(ContentFormat.ARROW, chooser.autoContentFormat(Collections.nCopies(1000, "a")));
    assertEquals(ContentFormat.JSON, chooser.autoContentFormat(Map.of("k", 1)));
    assertEquals(ContentFormat.JSON, chooser.autoContentFormat("scalar"));
    assertEquals(ContentFormat.MSGPACK, chooser.autoContentFormat(new byte[3]));
    assertEquals(ContentFormat.JSON, chooser.autoContentFormat(List.of()));
  }

  @Test
  void givenForcedOrRef_thenContentFormat() {
    assertEquals(ContentFormat.ARROW, chooser.contentFormat(records(2, 1), FormatChoice.forced(ContentFormat.ARROW)));
    assertEquals(ContentFormat.JSON, chooser.contentFormat(records(2, 1), FormatChoice.REF), "ref keeps the AUTO content format");
  }

  @Test
  void givenAutoPlacement_thenInlineFrameOrRefBySize() throws Exception {
    long max = ProtocolSettings.DEFAULT_MAX_FRAME_BYTES;
    long refMin = ProtocolSettings.DEFAULT_REF_MIN_BYTES;
    assertEquals(Placement.INLINE, chooser.placement("b", FormatChoice.AUTO, ContentFormat.JSON, 100, true));
    assertEquals(Placement.FRAME, chooser.placement("b", FormatChoice.AUTO, ContentFormat.ARROW, refMin - 1, true));
    assertEquals(Placement.REF, chooser.placement("b", FormatChoice.AUTO, ContentFormat.ARROW, refMin, true));
    assertEquals(Placement.FRAME, chooser.placement("b", FormatChoice.AUTO, ContentFormat.ARROW, refMin, false), "no spill dir: in the pipe");
    assertEquals(Placement.REF, chooser.placement("b", FormatChoice.AUTO, ContentFormat.MSGPACK, max + 1, true));
  }

  @Test
  void givenBodyOverMaxFrameBytesUnderAuto_thenRefWithSpillDirElseFrameTooLong() throws Exception {
    FormatChooser small = new FormatChooser(ProtocolSettings.defaults().withMaxFrameBytes(1000).withRefMinBytes(1L << 40));
    assertEquals(Placement.REF, small.placement("inputs", FormatChoice.AUTO, ContentFormat.MSGPACK, 1001, true));
    FrameTooLongException e =
        assertThrows(FrameTooLongException.class, () -> small.placement("inputs", FormatChoice.AUTO, ContentFormat.MSGPACK, 1001, false));
    assertTrue(e.getMessage().contains("max_frame_bytes 1000") && e.getMessage().contains("'inputs'"), e.getMessage());
  }

  @Test
  void givenForcedInlineFormatOverMax_thenErrorNamingSettingNeverAnotherFormat() throws Exception {
    long max = ProtocolSettings.DEFAULT_MAX_FRAME_BYTES;
    assertEquals(Placement.FRAME, chooser.placement("b", FormatChoice.forced(ContentFormat.MSGPACK), ContentFormat.MSGPACK, ProtocolSettings.DEFAULT_REF_MIN_BYTES * 2, true), "forced stays in the pipe");
    FrameTooLongException e =
        assertThrows(FrameTooLongException.class, () -> chooser.placement("big", FormatChoice.forced(ContentFormat.ARROW), ContentFormat.ARROW, max + 1, true));
    assertTrue(e.getMessage().contains("max_frame_bytes") && e.getMessage().contains("AUTO or ref"), e.getMessage());
  }

  @Test
  void givenForcedRef_thenRefOrRefusedWithoutSpillDir() throws Exception {
    assertEquals(Placement.REF, chooser.placement("b", FormatChoice.REF, ContentFormat.JSON, 10, true));
    assertThrows(IllegalStateException.class, () -> chooser.placement("b", FormatChoice.REF, ContentFormat.JSON, 10, false));
    FormatChooser tinyRefs = new FormatChooser(ProtocolSettings.defaults().withMaxRefBytes(5));
    assertThrows(FrameTooLongException.class, () -> tinyRefs.placement("b", FormatChoice.REF, ContentFormat.JSON, 10, true));
  }
}
