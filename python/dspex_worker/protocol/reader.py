"""Reading messages and stream events from a frame reader (spec sections 2, 6).

Anything :meth:`MessageReader.read` raises means the channel is out of step and
must be dropped; a bad body fails later, when it is decoded (:mod:`.message`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dspex_worker.protocol.errors import UnexpectedFrameError
from dspex_worker.protocol.frames import FORMAT_FRAME_TYPES, FrameReader, FrameType
from dspex_worker.protocol.message import Body, Message, StreamEvent
from dspex_worker.protocol.payloads import decode_header_payload, parse_body_list
from dspex_worker.protocol.ref import SpillDir


class MessageReader:
    """Reads messages and stream events from a frame reader.

    Args:
        frames: the frame reader (its V1/V2 mode decides the framing).
        spill: the spill directory for REF bodies (``None``: REF bodies fail
            with ``RefOutsideSpillDir`` when accessed).
    """

    def __init__(self, frames: FrameReader, *, spill: SpillDir | None = None) -> None:
        self.frames = frames
        self.spill = spill

    def read(self) -> Message | None:
        """Read the next message or stream event; ``None`` on a clean EOF.

        Raises:
            ProtocolError: a frame-level error, a body frame where a header was
                expected, or missing/mismatched body frames.
            CorruptedPayloadError: a header that is not a map with an integer id,
                or a malformed body list.

            The channel cannot be trusted after any of these (:data:`WIRE_ERRORS`
            of :mod:`dspex_worker.protocol.errors` names both).
        """
        frame = self.frames.read_frame()
        if frame is None:
            return None
        if not self.frames.v2:
            return Message(decode_header_payload(frame), FrameType.JSON, v1=True)
        if frame.type.is_header:
            header = decode_header_payload(frame)
            return Message(header, frame.type, self._read_bodies(header))
        if frame.type is FrameType.STREAM_CHUNK:
            header = decode_header_payload(frame)
            return StreamEvent(header, frame.type, self._read_bodies(header))
        if frame.type.is_stream:
            return StreamEvent(decode_header_payload(frame), frame.type)
        raise UnexpectedFrameError(
            f"a {frame.type.name} body frame arrived where a message header was expected",
            peer=self.frames.peer,
        )

    def _read_bodies(self, header: Mapping[str, Any]) -> dict[str, Body]:
        specs = parse_body_list(header)
        bodies: dict[str, Body] = {}
        for index, (name, content_format) in enumerate(specs):
            frame = self.frames.read_frame()
            if frame is None:
                raise UnexpectedFrameError(
                    f"message {header['id']} ended after {index} of its {len(specs)} body frames",
                    peer=self.frames.peer,
                )
            expected = FORMAT_FRAME_TYPES[content_format]
            if frame.type is not expected and frame.type is not FrameType.REF:
                raise UnexpectedFrameError(
                    f"message {header['id']} body {name!r} is listed as {content_format} "
                    f"but a {frame.type.name} frame arrived",
                    peer=self.frames.peer,
                )
            bodies[name] = Body(name, content_format, frame, self.spill)
        return bodies
