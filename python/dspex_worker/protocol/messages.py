"""Messages: a header frame plus the body frames it lists (spec sections 2, 4-6).

:class:`MessageReader` assembles messages and stream events from a
:class:`~dspex_worker.protocol.frames.FrameReader`; bodies are decoded lazily
on first access, so a corrupted body or a bad REF fails when the handler asks
for it (the worker then answers that request with an error) instead of
breaking the whole channel. Anything :meth:`MessageReader.read` raises means
the channel is out of step and must be dropped.

:class:`MessageWriter` encodes a whole message (choosing body formats, inlining
JSON bodies, spilling REF files) before it writes the first byte, then writes
its frames contiguously under a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dspex_worker.codec import json_codec, msgpack_codec, values
from dspex_worker.protocol import headers
from dspex_worker.protocol.auto import CONTENT_FORMATS, is_arrow_table, is_ndarray, plan_body
from dspex_worker.protocol.errors import (
    CorruptedPayloadError,
    ProtocolError,
    RefOutsideSpillDirError,
    UnexpectedFrameError,
)
from dspex_worker.protocol.frames import (
    FORMAT_FRAME_TYPES,
    Buffer,
    Frame,
    FrameReader,
    FrameType,
    FrameWriter,
)
from dspex_worker.protocol.headers import (
    error_map,
    error_response_header,
    request_header,
    response_header,
    utc_timestamp,
)
from dspex_worker.protocol.ref import RefInfo, SpillDir
from dspex_worker.protocol.settings import DEFAULT_SETTINGS, ProtocolSettings

__all__ = [
    "Body",
    "BodyFormats",
    "Message",
    "MessageReader",
    "MessageWriter",
    "StreamEvent",
    "decode_header_payload",
    "decode_payload",
    "parse_body_list",
    # Header builders, defined in headers.py.
    "error_map",
    "error_response_header",
    "request_header",
    "response_header",
    "utc_timestamp",
]

_MISSING = object()


def decode_payload(content_format: str, payload: Buffer) -> Any:
    """Decode a body payload of a content format (Arrow -> records, NPY -> ndarray)."""
    if content_format == "json":
        return json_codec.decode(payload)
    if content_format == "msgpack":
        return msgpack_codec.decode(payload)
    if content_format == "arrow":
        from dspex_worker.codec import arrow_codec

        return arrow_codec.decode(payload)
    if content_format == "numpy":
        from dspex_worker.codec import numpy_codec

        return numpy_codec.decode(payload)
    raise ValueError(f"unknown content format {content_format!r}")


def decode_header_payload(frame: Frame) -> dict[str, Any]:
    """Decode a header or stream map; it must be a map with an integer ``id``.

    Raises:
        CorruptedPayloadError: invalid payload, not a map, or no integer id.
    """
    if frame.type is FrameType.JSON:
        value = json_codec.decode(frame.payload)
    else:
        value = msgpack_codec.decode(frame.payload)
    if not isinstance(value, dict):
        raise CorruptedPayloadError(
            f"{frame.type.name} header is not a map but {type(value).__name__}"
        )
    if type(value.get("id")) is not int:
        raise CorruptedPayloadError(f"header has no integer id: {value.get('id')!r}")
    return value


def parse_body_list(header: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ``(name, format)`` pairs of a header's ``body`` (missing: none).

    Raises:
        CorruptedPayloadError: not a list of ``{name: str, format: <content format>}``
            with unique names.
    """
    body = header.get("body", [])
    if body is None:
        return []
    if not isinstance(body, list):
        raise CorruptedPayloadError(f"header body is not a list: {body!r}")
    specs: list[tuple[str, str]] = []
    for entry in body:
        if (
            not isinstance(entry, dict)
            or type(entry.get("name")) is not str
            or entry.get("format") not in CONTENT_FORMATS
        ):
            raise CorruptedPayloadError(f"header body entry {entry!r} is not {{name, format}}")
        specs.append((entry["name"], entry["format"]))
    names = [name for name, _ in specs]
    if len(set(names)) != len(names):
        raise CorruptedPayloadError(f"header body names are not unique: {names}")
    return specs


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
        self._error: ProtocolError | None = None
        self._content: Buffer | None = None
        self._value: Any = _MISSING
        self._table: Any = None
        if frame.type is FrameType.REF:
            try:
                self.ref = RefInfo.decode(frame.payload)
            except ProtocolError as exc:
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
            if self.format == "arrow":
                from dspex_worker.codec import arrow_codec

                # Through table() so that a later body_table()/body_schema() reuses it.
                self._value = arrow_codec.table_to_records(self.table())
            else:
                self._value = decode_payload(self.format, self.content())
        return self._value

    def table(self) -> Any:
        """An Arrow body as a ``pyarrow.Table`` (zero-copy; cached)."""
        if self.format != "arrow":
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
            return "json"
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
            ProtocolError: a frame-level error, a header that is not a map
                with an integer id, a malformed body list, a body frame where
                a header was expected, or missing/mismatched body frames. The
                channel cannot be trusted after any of these.
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


BodyFormats = str | Mapping[str, str] | None


def _format_for(formats: BodyFormats, name: str) -> str:
    if formats is None:
        return "auto"
    if isinstance(formats, str):
        return formats
    return formats.get(name, "auto")


def _v1_value(value: Any) -> Any:
    """A body as plain JSON data for a V1 peer (arrays and tables become lists)."""
    if is_ndarray(value):
        return value.tolist()
    if is_arrow_table(value):
        return value.to_pylist()
    return value


class MessageWriter:
    """Encodes and writes messages and stream frames.

    Args:
        frames: the frame writer (its V1/V2 mode decides the framing; on V1
            everything goes inline as JSON).
        settings: AUTO thresholds and limits.
        spill: the spill directory for REF bodies (``None``: no REF).
        clock: returns the timestamp for each header (default: now, UTC).
    """

    def __init__(
        self,
        frames: FrameWriter,
        *,
        settings: ProtocolSettings = DEFAULT_SETTINGS,
        spill: SpillDir | None = None,
        clock: Callable[[], str] = headers.utc_timestamp,
    ) -> None:
        self.frames = frames
        self.settings = settings
        self.spill = spill
        self.clock = clock
        self._lock = threading.Lock()

    @property
    def v2(self) -> bool:
        """Whether the connection uses V2 framing."""
        return self.frames.v2

    # -- encoding ---------------------------------------------------------------

    def encode_header(self, header: Mapping[str, Any]) -> tuple[FrameType, bytes]:
        """JSON unless the header holds NaN/Infinity/bytes, then MSGPACK (V1: JSON or error)."""
        if not self.v2:
            return FrameType.JSON, json_codec.encode(header)
        if values.scan(header):
            return FrameType.MSGPACK, msgpack_codec.encode(header)
        return FrameType.JSON, json_codec.encode_checked(header)

    def encode_bodies(
        self,
        bodies: Mapping[str, Any] | None,
        formats: BodyFormats,
        container: dict[str, Any] | None,
        container_name: str | None,
    ) -> tuple[list[dict[str, str]], list[tuple[FrameType, bytes]], list[RefInfo]]:
        """Plan and encode bodies; JSON ones go into ``container`` when there is one.

        Returns the header's ``body`` list, the body frames and the REF files
        written (already on disk; the caller owns them).

        Raises:
            ValueError: a body name that collides with a ``container`` key.
        """
        body: list[dict[str, str]] = []
        frames: list[tuple[FrameType, bytes]] = []
        refs: list[RefInfo] = []
        if not bodies:
            return body, frames, refs
        try:
            for name, value in bodies.items():
                if container is not None and name in container:
                    raise ValueError(f"body name {name!r} collides with a {container_name} key")
                path = f"{container_name}.{name}" if container is not None else name
                fmt = _format_for(formats, name)
                if not self.v2:
                    if container is None:
                        raise ValueError("a V1 connection carries bodies inline only")
                    if fmt not in ("auto", "json"):
                        raise ValueError(f"a V1 peer takes JSON only, not format {fmt!r}")
                    container[name] = _v1_value(value)
                    continue
                plan = plan_body(
                    value,
                    self.settings,
                    name=name,
                    path=path,
                    fmt=fmt,
                    spill_available=self.spill is not None,
                )
                if plan.ref:
                    assert self.spill is not None
                    ref = self.spill.write(plan.payload, plan.format)
                    refs.append(ref)
                    frames.append((FrameType.REF, ref.encode()))
                    body.append({"name": name, "format": plan.format})
                elif plan.format == "json" and container is not None:
                    container[name] = value
                else:
                    frames.append((FORMAT_FRAME_TYPES[plan.format], plan.payload))
                    body.append({"name": name, "format": plan.format})
        except BaseException:
            self.discard(refs)
            raise
        return body, frames, refs

    def discard(self, refs: Sequence[RefInfo]) -> None:
        """Delete REF files that will not be sent (or whose exchange is over)."""
        if self.spill is not None:
            for ref in refs:
                self.spill.delete(ref.path)

    def _send(self, frames: list[tuple[FrameType, bytes]], refs: list[RefInfo]) -> None:
        try:
            with self._lock:
                self.frames.write_frames(frames)
        except BaseException:
            self.discard(refs)
            raise

    def _send_message(
        self,
        build: Callable[[list[dict[str, str]], str], dict[str, Any]],
        bodies: Mapping[str, Any] | None,
        formats: BodyFormats,
        container: dict[str, Any] | None,
        container_name: str | None,
        timestamp: str | None,
    ) -> list[RefInfo]:
        body, body_frames, refs = self.encode_bodies(bodies, formats, container, container_name)
        try:
            header = build(body, timestamp or self.clock())
            frames = [self.encode_header(header), *body_frames]
        except BaseException:
            self.discard(refs)
            raise
        self._send(frames, refs)
        return refs

    # -- messages ---------------------------------------------------------------

    def write_request(
        self,
        id: int,
        command: str,
        args: Mapping[str, Any] | None = None,
        bodies: Mapping[str, Any] | None = None,
        *,
        formats: BodyFormats = None,
        timestamp: str | None = None,
    ) -> list[RefInfo]:
        """Write a request; returns the REF files written (the client's to delete).

        Args:
            id: the request id.
            command: the command.
            args: command arguments (copied; JSON bodies are added to the copy).
            bodies: bodies by name.
            formats: ``auto`` (default), one format for all bodies, or a
                per-name mapping (see :func:`~dspex_worker.protocol.auto.parse_format`).
            timestamp: fixed timestamp (default: the clock).
        """
        container = dict(args or {})
        return self._send_message(
            lambda body, ts: headers.request_header(id, command, container, ts, body),
            bodies,
            formats,
            container,
            "args",
            timestamp,
        )

    def write_response(
        self,
        id: int,
        result: Any,
        bodies: Mapping[str, Any] | None = None,
        *,
        formats: BodyFormats = None,
        timestamp: str | None = None,
    ) -> list[RefInfo]:
        """Write a success response; JSON bodies go inline when ``result`` is a map."""
        container = dict(result) if isinstance(result, Mapping) else None
        return self._send_message(
            lambda body, ts: headers.response_header(
                id, container if container is not None else result, ts, body
            ),
            bodies,
            formats,
            container,
            "result",
            timestamp,
        )

    def write_error(
        self,
        id: int,
        error: BaseException | Mapping[str, Any] | str,
        *,
        timestamp: str | None = None,
        with_traceback: bool = True,
    ) -> None:
        """Write an error response from an exception, an error map or a message."""
        if isinstance(error, BaseException):
            error_map = headers.exception_error(error, with_traceback=with_traceback)
        else:
            error_map = headers.normalise_error(error)
        header = headers.error_response_header(id, error_map, timestamp or self.clock())
        self._send([self.encode_header(header)], [])

    # -- streams ----------------------------------------------------------------

    def _write_stream_map(self, frame_type: FrameType, value: Mapping[str, Any]) -> None:
        if not self.v2:
            raise ValueError("streams need a V2 connection")
        self._send([(frame_type, msgpack_codec.encode(value))], [])

    def write_stream_start(self, id: int, n: int) -> None:
        """Write STREAM_START ``{id, n}``."""
        self._write_stream_map(FrameType.STREAM_START, headers.stream_start(id, n))

    def write_stream_chunk(
        self,
        id: int,
        indexes: Sequence[int],
        failed: Sequence[Mapping[str, Any]] = (),
        usage: Mapping[str, int] | None = None,
        bodies: Mapping[str, Any] | None = None,
        *,
        formats: BodyFormats = None,
    ) -> list[RefInfo]:
        """Write STREAM_CHUNK and its body frames (JSON bodies go as JSON frames)."""
        if not self.v2:
            raise ValueError("streams need a V2 connection")
        body, body_frames, refs = self.encode_bodies(bodies, formats, None, None)
        chunk = headers.stream_chunk(id, indexes, failed, usage or headers.usage_map(), body)
        try:
            frames = [(FrameType.STREAM_CHUNK, msgpack_codec.encode(chunk)), *body_frames]
        except BaseException:
            self.discard(refs)
            raise
        self._send(frames, refs)
        return refs

    def write_stream_end(self, id: int, ok: int, failed: int, usage: Mapping[str, int]) -> None:
        """Write STREAM_END ``{id, ok, failed, usage}`` (counts and usage totals)."""
        self._write_stream_map(FrameType.STREAM_END, headers.stream_end(id, ok, failed, usage))

    def write_stream_error(
        self, id: int, error: BaseException | Mapping[str, Any], *, with_traceback: bool = True
    ) -> None:
        """Write STREAM_ERROR ``{id, error}``."""
        if isinstance(error, BaseException):
            error_map = headers.exception_error(error, with_traceback=with_traceback)
        else:
            error_map = headers.normalise_error(error)
        self._write_stream_map(FrameType.STREAM_ERROR, headers.stream_error(id, error_map))
