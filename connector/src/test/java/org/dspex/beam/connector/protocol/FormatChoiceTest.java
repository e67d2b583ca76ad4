package org.dspex.beam.connector.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.dspex.beam.connector.codec.ContentFormat;
import org.junit.jupiter.api.Test;

class FormatChoiceTest {
  @Test
  void givenTheRegistry_thenAutoEachContentFormatAndRef() {
    List<String> expected = new ArrayList<>(List.of("auto"));
    expected.addAll(ContentFormat.wireNames());
    expected.add("ref");
    assertEquals(expected, FormatChoice.wireNames());
    for (FormatChoice c : FormatChoice.values()) {
      assertSame(c, FormatChoice.fromWireName(c.wireName()));
    }
    for (ContentFormat f : ContentFormat.values()) {
      FormatChoice c = FormatChoice.forced(f);
      assertSame(f, c.forcedFormat());
      assertEquals(f.wireName(), c.wireName());
      assertTrue(!c.isAuto() && !c.isRef());
    }
    assertTrue(FormatChoice.AUTO.isAuto() && FormatChoice.REF.isRef());
    assertNull(FormatChoice.AUTO.forcedFormat());
    assertNull(FormatChoice.REF.forcedFormat());
  }

  @Test
  void givenASerializedChoice_thenTheSameInstanceBack() throws Exception {
    for (FormatChoice c : FormatChoice.values()) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
        out.writeObject(c);
      }
      try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
        FormatChoice back = (FormatChoice) in.readObject();
        assertSame(c, back);
        assertEquals(c.forcedFormat(), back.forcedFormat());
      }
    }
  }
}
