package org.dspex.beam.connector.protocol;

/**
 * What {@link MessageReader#read()} returns: a whole {@link Message} or one {@link StreamEvent},
 * each tagged with the request id it belongs to.
 */
public sealed interface Incoming permits Message, StreamEvent {
  /** The request id; -1 for a message whose header has none (a legacy V1 peer's answer). */
  long id();
}
