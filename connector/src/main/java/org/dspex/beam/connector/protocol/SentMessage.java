package org.dspex.beam.connector.protocol;

import java.util.List;
import org.dspex.beam.connector.codec.ContentFormat;

/**
 * What {@link MessageWriter} wrote for one message: enough for metrics ({@code bytes_json},
 * {@code bytes_arrow}, ...) and for cleaning up the REF files the message spilled.
 *
 * @param id the message id
 * @param headerFormat {@link ContentFormat#JSON} or {@link ContentFormat#MSGPACK}
 * @param headerBytes the header's payload length
 * @param bodies each body's fate, in order
 * @param refFiles the spill files written for this message (relative names); the writer's side
 *     deletes them when the answer arrives
 */
public record SentMessage(
    long id, ContentFormat headerFormat, long headerBytes, List<SentBody> bodies, List<String> refFiles) {

  /**
   * One body as sent.
   *
   * @param name the body's name
   * @param format its content format
   * @param placement inline, frame or REF
   * @param encodedBytes the size of its encoding
   */
  public record SentBody(String name, ContentFormat format, FormatChooser.Placement placement, long encodedBytes) {}
}
