package org.dspex.beam.connector.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.dspex.beam.connector.codec.CorruptedPayloadException;
import org.dspex.beam.connector.codec.EncodingException;
import org.dspex.beam.connector.codec.FirstBytes;
import org.junit.jupiter.api.Test;

class ErrorsTest {
  @Test
  void givenEachError_thenSpecificationName() {
    List<ProtocolException> all =
        List.of(
            new FrameTooLongException("x"),
            new TruncatedFrameException("x"),
            new UnknownFrameTypeException("x"),
            new PayloadException(new CorruptedPayloadException("x")),
            new UnexpectedFrameException("x"),
            new RefNotFoundException("x"),
            new RefOutOfRangeException("x"),
            new RefOutsideSpillDirException("x"),
            new PayloadException(new EncodingException("x")));
    assertEquals(
        List.of(
            "FrameTooLong", "TruncatedFrame", "UnknownFrameType", "CorruptedPayload", "UnexpectedFrame",
            "RefNotFound", "RefOutOfRange", "RefOutsideSpillDir", "EncodingError"),
        all.stream().map(ProtocolException::errorName).toList());
  }

  @Test
  void givenCodecErrors_thenSpecificationNames() {
    assertEquals("CorruptedPayload", new CorruptedPayloadException("x").errorName());
    assertEquals("EncodingError", new EncodingException("x").errorName());
  }

  @Test
  void givenCodecErrorInAMessage_thenSameNameAndMessageWithPeerAndRequest() {
    EncodingException cause = new EncodingException("cannot encode NaN as JSON (field args.x)");
    ProtocolException e = new PayloadException(cause).attachPeer("worker 2 (pid 9)").attachRequestId(4);
    assertEquals("EncodingError", e.errorName());
    assertEquals("worker 2 (pid 9): cannot encode NaN as JSON (field args.x)", e.getMessage());
    assertEquals(cause.getMessage(), e.detail());
    assertSame(cause, e.getCause());
    assertEquals(4, e.requestId().getAsLong());
  }

  @Test
  void givenPeerAttachedTwice_thenFirstPeerNamedOnce() {
    ProtocolException e = PayloadException.corrupted("bad");
    assertEquals("bad", e.getMessage());
    e.attachPeer("worker 1 (pid 7)");
    e.attachPeer("someone else");
    assertEquals("worker 1 (pid 7): bad", e.getMessage());
    assertEquals("bad", e.detail());
  }

  @Test
  void givenRequestIdAttached_thenErrorConfinedToIt() {
    ProtocolException e = new RefNotFoundException("gone");
    assertFalse(e.requestId().isPresent());
    e.attachRequestId(17);
    assertEquals(17, e.requestId().getAsLong());
  }

  @Test
  void givenBytes_thenHexAndAsciiAsTheSpecShows() {
    byte[] b = "HTTP/1.1 200".getBytes(StandardCharsets.US_ASCII);
    assertEquals("48 54 54 50 2f 31 2e 31 20 32 30 30 |HTTP/1.1 200|", FirstBytes.render(b, 0, b.length));
    assertEquals("00 7f 80 ff 20 |.... |", FirstBytes.render(new byte[] {0, 0x7f, (byte) 0x80, (byte) 0xff, 0x20}, 0, 5));
    byte[] many = new byte[100];
    assertTrue(FirstBytes.render(many, 0, 100).endsWith("|" + ".".repeat(32) + "|"));
    assertEquals("(none)", FirstBytes.render(new byte[0], 0, 0));
  }
}
