"""The message model: a header plus the bodies it lists (spec sections 2, 4-6).

A :class:`Message` is a request, a response or (as :class:`StreamEvent`) a stream
frame. Its bodies are decoded lazily on first access, so a corrupted body or a bad
REF fails when the handler asks for it (the worker then answers that request with an
error) instead of breaking the whole channel. :mod:`.reader` builds messages from
frames; :mod:`.writer` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dspex_worker.codec.errors import CorruptedPayloadError
from dspex_worker.codec.formats import ARROW, JSON
from dspex_worker.protocol import headers
from dspex_worker.protocol.errors import WIRE_ERRORS, RefOutsideSpillDirError
from dspex_worker.protocol.frames import Buffer, Frame, FrameType
from dspex_worker.protocol.payloads import decode_payload
from dspex_worker.protocol.ref import RefInfo, SpillDir

_MISSING = object()


class Body:
    """One body frame of a message, decoded on first access.

    Attributes:
        name: the body's name.
        format: its content format.
        frame: the frame as it arrived (type REF for a spilled body).
        ref: the REF map for a spilled body, else ``None``.
    """

    def __init__(self, name: str, content_format: str, frame: Frame, spill: SpillDir | None):
        self.name = name
        self.format = content_format
        self.frame = frame
        self.ref: RefInfo | None = None
        self._spill = spill
        self._error: Exception | None = None
        self._content: Buffer | None = None
        self._value: Any = _MISSING
        self._table: Any = None
        if frame.type is FrameType.REF:
            try:
                self.ref = RefInfo.decode(frame.payload)
            except WIRE_ERRORS as exc:
                self._error = exc
            else:
                if self.ref.format != content_format:
                    self._error = CorruptedPayloadError(
                        f"body {name!r} is listed as {content_format} but its REF says "
                        f"{self.ref.format}"
                    )

    @property
    def is_ref(self) -> bool:
        """True when the body came as a REF frame."""
        return self.frame.type is FrameType.REF

    def content(self) -> Buffer:
        """The encoded body: the frame payload, or the mapped REF range."""
        if self._error is not None:
            raise self._error
        if self._content is None:
            if self.ref is None:
                self._content = self.frame.payload
            elif self._spill is None:
                raise RefOutsideSpillDirError(
                    f"body {self.name!r} came as a REF to {self.ref.path!r} but this side "
                    "has no spill directory (none was given in hello)"
                )
            else:
                self._content = self._spill.open(self.ref)
        return self._content

    def value(self) -> Any:
        """The decoded body (cached)."""
        if self._value is _MISSING:
            if self.format == ARROW.name:
                from dspex_worker.codec import arrow_codec

                # Through table() so that a later body_table()/body_schema() reuses it.
                self._value = arrow_codec.table_to_records(self.table())
            else:
                self._value = decode_payload(self.format, self.content())
        return self._value

    def table(self) -> Any:
        """An Arrow body as a ``pyarrow.Table`` (zero-copy; cached)."""
        if self.format != ARROW.name:
            raise TypeError(f"body {self.name!r} is {self.format}, not arrow")
        if self._table is None:
            from dspex_worker.codec import arrow_codec

            self._table = arrow_codec.decode_table(self.content())
        return self._table


class Message:
    """A request, a response, or (as :class:`StreamEvent`) a stream frame.

    Attributes:
        header: the decoded header (or stream map), as received.
        frame_type: the header frame's type (``JSON`` for V1 frames).
        bodies: the body frames by name, in the listed order.
        v1: True when the message came V1-framed.
    """

    def __init__(
        self,
        header: dict[str, Any],
        frame_type: FrameType,
        bodies: dict[str, Body] | None = None,
        *,
        v1: bool = False,
    ) -> None:
        self.header = header
        self.frame_type = frame_type
        self.bodies = bodies or {}
        self.v1 = v1

    def __repr__(self) -> str:
        name, kind = type(self).__name__, self.frame_type.name
        return f"{name}({kind}, {self.header!r}, bodies={list(self.bodies)})"

    @property
    def id(self) -> int:
        """The request id."""
        return self.header["id"]

    @property
    def is_request(self) -> bool:
        """True for a request header (it has a ``command``)."""
        return not self.is_stream and "command" in self.header

    @property
    def is_response(self) -> bool:
        """True for a response header (it has ``success``)."""
        return not self.is_stream and "success" in self.header

    @property
    def is_stream(self) -> bool:
        """True for stream events."""
        return self.frame_type.is_stream

    @property
    def command(self) -> str | None:
        """A request's command."""
        return self.header.get("command")

    @property
    def args(self) -> dict[str, Any]:
        """A request's args (``{}`` when absent)."""
        args = self.header.get("args")
        return args if isinstance(args, dict) else {}

    @property
    def success(self) -> bool:
        """A response's success flag."""
        return self.header.get("success") is True

    @property
    def result(self) -> Any:
        """A response's result."""
        return self.header.get("result")

    @property
    def error(self) -> dict[str, Any] | None:
        """A response's error as ``{type, message, traceback?}`` (legacy strings normalised)."""
        error = self.header.get("error")
        return None if error is None else headers.normalise_error(error)

    def _inline(self) -> Mapping[str, Any]:
        if self.is_stream:
            return {}
        container = self.header.get("args") if self.is_request else self.header.get("result")
        return container if isinstance(container, dict) else {}

    def has_body(self, name: str) -> bool:
        """True when a body of that name came as a frame or inline."""
        return name in self.bodies or name in self._inline()

    def body(self, name: str) -> Any:
        """The decoded body ``name``: a body frame first, else inline in args/result.

        Raises:
            KeyError: no such body.
            CorruptedPayloadError, RefNotFoundError, RefOutOfRangeError,
            RefOutsideSpillDirError, FrameTooLongError: the body is bad.
        """
        if name in self.bodies:
            return self.bodies[name].value()
        inline = self._inline()
        if name in inline:
            return inline[name]
        raise KeyError(f"message {self.header.get('id')} has no body {name!r}")

    def body_format(self, name: str) -> str:
        """The content format of body ``name`` (``json`` when inline)."""
        if name in self.bodies:
            return self.bodies[name].format
        if name in self._inline():
            return JSON.name
        raise KeyError(f"message {self.header.get('id')} has no body {name!r}")

    def body_is_ref(self, name: str) -> bool:
        """True when body ``name`` came as a REF frame."""
        return name in self.bodies and self.bodies[name].is_ref

    def body_table(self, name: str) -> Any:
        """An Arrow body as a ``pyarrow.Table`` without converting to records."""
        return self.bodies[name].table()

    def body_schema(self, name: str) -> list[dict[str, str]]:
        """An Arrow body's schema as ``[{"name", "type"}]`` (value-model type names)."""
        from dspex_worker.codec import arrow_codec

        return arrow_codec.schema_spec(self.body_table(name).schema)


class StreamEvent(Message):
    """A STREAM_START/CHUNK/END/ERROR frame (a chunk with its body frames)."""

    @property
    def kind(self) -> FrameType:
        """Which stream frame this is."""
        return self.frame_type
