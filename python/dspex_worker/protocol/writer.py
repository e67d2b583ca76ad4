"""Writing messages and stream frames (spec sections 2, 4-6).

:class:`MessageWriter` encodes a whole message (choosing body formats, inlining
JSON bodies, spilling REF files) before it writes the first byte, then writes
its frames contiguously under a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dspex_worker.codec import json_codec, msgpack_codec, values
from dspex_worker.codec.formats import JSON, native_format
from dspex_worker.protocol import headers
from dspex_worker.protocol.auto import AUTO, plan_body
from dspex_worker.protocol.frames import FORMAT_FRAME_TYPES, FrameType, FrameWriter
from dspex_worker.protocol.ref import RefInfo, SpillDir
from dspex_worker.protocol.settings import DEFAULT_SETTINGS, ProtocolSettings

BodyFormats = str | Mapping[str, str] | None


def _format_for(formats: BodyFormats, name: str) -> str:
    if formats is None:
        return AUTO
    if isinstance(formats, str):
        return formats
    return formats.get(name, AUTO)


def _v1_value(value: Any) -> Any:
    """A body as plain JSON data for a V1 peer (arrays and tables become lists)."""
    native = native_format(value)
    return value if native is None else native.plain(value)


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
                    if fmt not in (AUTO, JSON.name):
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
                elif plan.format == JSON.name and container is not None:
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
