package org.dspex.beam.connector.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.dspex.beam.connector.codec.ContentFormat;
import org.junit.jupiter.api.Test;

class FramesTest {
  private static final String PEER = "worker 3 (pid 1234)";

  private static FrameReader reader(byte[] bytes, int max) {
    return new FrameReader(new ByteArrayInputStream(bytes), PEER, max);
  }

  private static byte[] frame(int type, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(5 + payload.length);
    b.putInt(payload.length).put((byte) type).put(payload);
    return b.array();
  }

  /** An unbuffered stream of {@code bytes} that serves at most {@code maxRead} of them per read, as a pipe does. */
  private static InputStream shortReads(byte[] bytes, int maxRead) {
    return new InputStream() {
      private int pos;

      @Override
      public int read() {
        return pos < bytes.length ? bytes[pos++] & 0xff : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (pos >= bytes.length) {
          return -1;
        }
        int n = Math.min(Math.min(len, maxRead), bytes.length - pos);
        System.arraycopy(bytes, pos, b, off, n);
        pos += n;
        return n;
      }
    };
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  @Test
  void givenFramesThenCleanEof_thenFramesThenNull() throws IOException {
    byte[] bytes = concat(frame(0x00, "{}".getBytes(StandardCharsets.UTF_8)), frame(0x13, new byte[0]));
    FrameReader r = reader(bytes, 100);
    Frame a = r.read();
    assertEquals(FrameType.of(ContentFormat.JSON), a.type());
    assertEquals("{}", StandardCharsets.UTF_8.decode(a.payload()).toString());
    Frame b = r.read();
    assertEquals(FrameType.STREAM_ERROR, b.type());
    assertEquals(0, b.length());
    assertNull(r.read());
    assertNull(r.read());
  }

  @Test
  void givenLengthOverMax_thenFrameTooLongWithoutAllocating() {
    // 0x7fffffff announced, nothing behind it: a reader that allocated first would need 2 GiB.
    byte[] bytes = {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01};
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    FrameReader r = reader(bytes, ProtocolSettings.DEFAULT_MAX_FRAME_BYTES);
    long before = threads.getCurrentThreadAllocatedBytes();
    FrameTooLongException e = assertThrows(FrameTooLongException.class, r::read);
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertTrue(allocated < 1 << 20, "allocated " + allocated + " bytes");
    assertEquals(
        PEER + ": frame length 2147483647 exceeds max_frame_bytes 268435456; first bytes: 7f ff ff ff 01 |.....|",
        e.getMessage());
  }

  /** Bytes this thread allocates while {@code r.read()} fails with a truncated frame. */
  private static long allocatedUntilTruncated(FrameReader r, String expected) {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    TruncatedFrameException e = assertThrows(TruncatedFrameException.class, r::read);
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    return allocated;
  }

  @Test
  void givenLengthOfExactlyTheMaxThenAFewBytesAndEof_thenTruncatedFrameHavingAllocatedForThoseOnly() {
    int max = ProtocolSettings.DEFAULT_MAX_FRAME_BYTES;
    byte[] bytes = ByteBuffer.allocate(8).putInt(max).put((byte) 0x02).put(new byte[] {'a', 'b', 'c'}).array();
    long allocated = allocatedUntilTruncated(reader(bytes, max),
        "stream ended inside a ARROW frame after 3 of 268435456 payload bytes; first bytes: 10 00 00 00 02 61 62 63");
    assertTrue(allocated < 2 * FrameReader.FIRST_READ_BYTES, "allocated " + allocated + " bytes");
  }

  @Test
  void givenLongPayloadCutShort_thenWhatWasAllocatedFollowsTheBytesThatCame() {
    int max = ProtocolSettings.DEFAULT_MAX_FRAME_BYTES;
    int sent = 10 << 20;
    byte[] bytes = ByteBuffer.allocate(5 + sent).putInt(max).put((byte) 0x03).array();
    FrameReader r = reader(bytes, max);
    long allocated = allocatedUntilTruncated(r, "after " + sent + " of 268435456 payload bytes");
    // Chunks as large as what came before them: at most twice what came, plus the first read.
    assertTrue(allocated < 2L * sent + FrameReader.FIRST_READ_BYTES + (1 << 20), "allocated " + allocated + " bytes");
  }

  @Test
  void givenLengthEqualToMax_thenAccepted() throws IOException {
    assertEquals(10, reader(frame(0x01, new byte[10]), 10).read().length());
    assertThrows(FrameTooLongException.class, () -> reader(frame(0x01, new byte[11]), 10).read());
  }

  @Test
  void givenHttpResponseOnTheChannel_thenFrameTooLongShowingIt() {
    byte[] http = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>".getBytes(StandardCharsets.US_ASCII);
    FrameTooLongException e = assertThrows(FrameTooLongException.class, () -> reader(http, ProtocolSettings.DEFAULT_MAX_FRAME_BYTES).read());
    assertEquals(
        PEER
            + ": frame length 1213486160 exceeds max_frame_bytes 268435456; first bytes: 48 54 54 50 2f 31 2e 31 20 32 30 30 20 4f 4b 0d 0a 43 6f 6e 74 65 6e 74 2d 54 79 70 65 3a 20 74 |HTTP/1.1 200 OK..Content-Type: t|",
        e.getMessage());
  }

  @Test
  void givenPythonTracebackOnTheChannel_thenFrameTooLongShowingIt() {
    byte[] tb = "Traceback (most recent call last):\n  File \"x.py\"".getBytes(StandardCharsets.US_ASCII);
    FrameTooLongException e = assertThrows(FrameTooLongException.class, () -> reader(tb, ProtocolSettings.DEFAULT_MAX_FRAME_BYTES).read());
    assertTrue(e.getMessage().contains("|Traceback (most recent call last|"), e.getMessage());
    assertEquals("FrameTooLong", e.errorName());
  }

  @Test
  void givenPrefixCutShort_thenTruncatedFrame() {
    TruncatedFrameException e = assertThrows(TruncatedFrameException.class, () -> reader(new byte[] {0, 0, 0}, 100).read());
    assertTrue(e.getMessage().contains("after 3 of 5 bytes") && e.getMessage().contains("00 00 00 |...|"), e.getMessage());
  }

  @Test
  void givenPayloadCutShort_thenTruncatedFrameWithTheBytesSeen() {
    byte[] cut = {0, 0, 0, 25, 0, '{', '"'};
    TruncatedFrameException e = assertThrows(TruncatedFrameException.class, () -> reader(cut, 100).read());
    assertTrue(e.getMessage().contains("after 2 of 25 payload bytes"), e.getMessage());
    assertTrue(e.getMessage().endsWith("00 00 00 19 00 7b 22 |.....{\"|"), e.getMessage());
  }

  @Test
  void givenUnknownTypeByte_thenUnknownFrameType() {
    UnknownFrameTypeException e =
        assertThrows(UnknownFrameTypeException.class, () -> reader(frame(0x7f, new byte[] {1, 2}), 100).read());
    assertTrue(e.getMessage().contains("0x7f") && e.getMessage().contains("00 00 00 02 7f 01 02"), e.getMessage());
  }

  @Test
  void givenV1Framing_thenNoTypeByteAndJsonFrames() throws IOException {
    byte[] v1 = {0, 0, 0, 2, '{', '}'};
    FrameReader r = reader(v1, 100);
    r.setVersion(ProtocolVersion.V1);
    Frame f = r.read();
    assertEquals(FrameType.of(ContentFormat.JSON), f.type());
    assertEquals(2, f.length());
    assertNull(r.read());
  }

  @Test
  void givenLargePayload_thenReadIntoOneArrayFromAnUnbufferedStream() throws IOException {
    byte[] payload = new byte[3_000_000];
    payload[payload.length - 1] = 42;
    InputStream trickle = shortReads(frame(0x02, payload), 100_000);
    Frame f = new FrameReader(trickle, PEER, ProtocolSettings.DEFAULT_MAX_FRAME_BYTES).read();
    assertEquals(payload.length, f.length());
    assertEquals(42, f.payload().get(payload.length - 1));
  }

  @Test
  void givenLongPayloadInSmallReads_thenEveryByteInPlaceAndTheNextFrameAfterIt() throws IOException {
    // Neither a power of two nor a multiple of the first read: the chunks' last one is partial.
    byte[] payload = new byte[5 * FrameReader.FIRST_READ_BYTES + 4];
    for (int i = 0; i < payload.length; i++) {
      payload[i] = (byte) (i * 31 + (i >> 16));
    }
    byte[] bytes = concat(frame(0x01, payload), frame(0x00, "{}".getBytes(StandardCharsets.UTF_8)));
    FrameReader r = new FrameReader(shortReads(bytes, 65_536), PEER, ProtocolSettings.DEFAULT_MAX_FRAME_BYTES);
    Frame f = r.read();
    byte[] read = new byte[f.length()];
    f.payload().get(read);
    assertArrayEquals(payload, read);
    assertEquals(2, r.read().length());
    assertNull(r.read());
  }

  @Test
  void givenWriter_thenV2AndV1Prefixes() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    FrameWriter w = new FrameWriter(out, PEER, 100);
    w.write(FrameType.of(ContentFormat.MSGPACK), ByteBuffer.wrap(new byte[] {(byte) 0xc0}));
    w.setVersion(ProtocolVersion.V1);
    w.write(FrameType.of(ContentFormat.JSON), ByteBuffer.wrap(new byte[] {'1'}));
    w.flush();
    assertArrayEquals(new byte[] {0, 0, 0, 1, 1, (byte) 0xc0, 0, 0, 0, 1, '1'}, out.toByteArray());
    assertThrows(IllegalStateException.class, () -> w.write(FrameType.of(ContentFormat.ARROW), ByteBuffer.allocate(1)));
  }

  @Test
  void givenPayloadOverMax_thenWriterRefusesNamingTheSettingAndWritesNothing() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    FrameWriter w = new FrameWriter(out, PEER, 100);
    FrameTooLongException e =
        assertThrows(FrameTooLongException.class, () -> w.write(FrameType.of(ContentFormat.ARROW), ByteBuffer.allocate(101)));
    assertTrue(e.getMessage().contains("max_frame_bytes 100") && e.getMessage().startsWith(PEER), e.getMessage());
    w.flush();
    assertEquals(0, out.size());
  }

  @Test
  void givenDirectPayloadLargerThanScratch_thenWrittenWhole() throws IOException {
    byte[] data = new byte[200_000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) i;
    }
    ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    FrameWriter w = new FrameWriter(out, PEER, ProtocolSettings.DEFAULT_MAX_FRAME_BYTES);
    w.write(FrameType.of(ContentFormat.NUMPY), direct);
    w.flush();
    assertEquals(0, direct.position(), "the caller's buffer is left as is");
    Frame f = reader(out.toByteArray(), ProtocolSettings.DEFAULT_MAX_FRAME_BYTES).read();
    byte[] back = new byte[f.length()];
    f.payload().get(back);
    assertArrayEquals(data, back);
  }

  @Test
  void givenTypeCodes_thenTableOfTheSpec() {
    assertEquals(0x04, FrameType.REF.code());
    assertEquals(FrameType.STREAM_CHUNK, FrameType.fromCode(0x11));
    assertNull(FrameType.fromCode(0x05));
    assertNull(FrameType.fromCode(0x14));
    assertTrue(FrameType.of(ContentFormat.MSGPACK).isHeader() && FrameType.REF.isBody() && FrameType.STREAM_END.isStream());
  }

  @Test
  void givenTheCodecRegistry_thenOneBodyFrameTypePerContentFormatNamedAsTheSpecNamesIt() {
    List<String> names = new ArrayList<>();
    for (FrameType t : FrameType.values()) {
      names.add(t.toString());
      assertSame(t, FrameType.fromCode(t.code()), t.toString());
      assertSame(t, FrameType.fromName(t.name()), t.toString());
    }
    List<String> expected = new ArrayList<>();
    for (ContentFormat f : ContentFormat.values()) {
      expected.add(f.name());
    }
    expected.addAll(List.of("REF", "STREAM_START", "STREAM_CHUNK", "STREAM_END", "STREAM_ERROR"));
    assertEquals(expected, names);
    for (ContentFormat f : ContentFormat.values()) {
      FrameType t = FrameType.of(f);
      assertEquals(f.frameType(), t.code(), f.wireName());
      assertSame(f, t.contentFormat());
      assertTrue(t.isBody() && !t.isStream(), f.wireName());
      assertEquals(f.mayCarryHeader(), t.isHeader(), f.wireName());
    }
    assertEquals(List.of(false, false, false), List.of(FrameType.of(ContentFormat.ARROW).isHeader(), FrameType.of(ContentFormat.NUMPY).isHeader(), FrameType.REF.isHeader()));
    assertNull(FrameType.REF.contentFormat());
    assertNull(FrameType.fromName("XML"));
  }
}
