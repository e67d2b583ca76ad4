"""Framing: V2 ``[u32 length][u8 type][payload]`` and V1 ``[u32 length][JSON]``.

This layer knows lengths, types and limits, nothing about payload contents
(``docs/protocol.md`` section 1). The reader checks every length against
``max_frame_bytes`` before it allocates the payload buffer, so garbage on
the channel costs an error, never a huge allocation; and a long payload's
buffer grows with the bytes that arrive, so a length the peer announces but
never sends costs no memory either.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import os
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from dspex_worker import contract
from dspex_worker.codec.errors import FIRST_BYTES_LIMIT
from dspex_worker.codec.formats import FORMATS, BodyFormat
from dspex_worker.protocol.errors import (
    FrameTooLongError,
    TruncatedFrameError,
    UnknownFrameTypeError,
)
from dspex_worker.protocol.settings import DEFAULT_MAX_FRAME_BYTES

Buffer = bytes | bytearray | memoryview

_V2_PREFIX = struct.Struct(">IB")
_V1_PREFIX = struct.Struct(">I")

#: Payloads up to this length are read into a buffer of their full length at once. A longer
#: one starts with a buffer this large that doubles each time it is full, so the memory a
#: payload holds is at most twice what has arrived (plus this), while a long payload that does
#: arrive costs one more pass over its bytes than a buffer of its length would (measured: a
#: 200 MiB frame over a pipe reads as fast, within the machine's noise).
FIRST_READ_BYTES = 1024 * 1024


class _FrameTypes(enum.IntEnum):
    """The behaviour of :data:`FrameType`, whose members are made below."""

    @property
    def is_stream(self) -> bool:
        """True for the four stream frame types."""
        return self >= _STREAM_START

    @property
    def is_header(self) -> bool:
        """True for the types a message header may have (JSON, MSGPACK)."""
        return self.value in _HEADER_TYPES

    @property
    def content_format(self) -> BodyFormat | None:
        """The content format of a body frame of this type (``None``: REF or a stream frame)."""
        return _FORMATS_BY_TYPE.get(self.value)


_STREAM_START = contract.FRAME_TYPES["STREAM_START"]
#: The frame types that are not a content format's (spec section 1.1).
_OTHER_TYPES = tuple(contract.FRAME_TYPES.items())
_FORMATS_BY_TYPE: dict[int, BodyFormat] = {f.frame_type: f for f in FORMATS}
_HEADER_TYPES = frozenset(f.frame_type for f in FORMATS if f.header)

#: The frame type byte of a V2 frame (spec section 1.1): one member per content format
#: of :data:`~dspex_worker.codec.formats.FORMATS` (``JSON`` ... ``NUMPY``), then ``REF``
#: and the stream frames.
FrameType = _FrameTypes(
    "FrameType",
    sorted([(f.frame_name, f.frame_type) for f in FORMATS] + list(_OTHER_TYPES), key=lambda m: m[1]),
    module=__name__,
    qualname="FrameType",
)

_TYPES_BY_BYTE: dict[int, FrameType] = {t.value: t for t in FrameType}

#: Content format name -> frame type of an inline body frame.
FORMAT_FRAME_TYPES: dict[str, FrameType] = {f.name: FrameType(f.frame_type) for f in FORMATS}


@dataclasses.dataclass(frozen=True, slots=True)
class Frame:
    """One frame: its type and its payload (a zero-copy view where possible).

    V1 frames are reported with type ``JSON`` (V1 carries nothing else).
    """

    type: FrameType
    payload: Buffer

    def encode(self, *, v2: bool = True) -> bytes:
        """The frame's wire bytes (prefix + payload)."""
        return encode_frame(self.type, self.payload) if v2 else encode_v1_frame(self.payload)


def encode_frame(frame_type: FrameType, payload: Buffer) -> bytes:
    """Wire bytes of one V2 frame; no limit check (see :class:`FrameWriter`)."""
    return _V2_PREFIX.pack(len(payload), int(frame_type)) + bytes(payload)


def encode_v1_frame(payload: Buffer) -> bytes:
    """Wire bytes of one V1 frame (``payload`` is JSON text)."""
    return _V1_PREFIX.pack(len(payload)) + bytes(payload)


def _read_available(stream: BinaryIO, limit: int) -> bytes:
    """Best-effort read of up to ``limit`` bytes that are already there.

    Used only to describe a broken channel in an error message, after which
    the channel is abandoned, so consuming the bytes is harmless; it must
    never block, or a peer that printed a short banner and then waited would
    hang the reader instead of failing it.
    """
    if limit <= 0:
        return b""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        fd = None
    try:
        if fd is None:
            # In-memory streams (BytesIO) cannot block.
            return stream.read(limit) or b""
        blocking = os.get_blocking(fd)
        os.set_blocking(fd, False)
        try:
            read1 = getattr(stream, "read1", None)
            data = read1(limit) if read1 is not None else stream.read(limit)
        finally:
            os.set_blocking(fd, blocking)
        return data or b""
    except (OSError, ValueError):
        return b""


class FrameReader:
    """Reads frames from a blocking binary stream.

    Args:
        stream: the channel (``readinto`` is used when present).
        max_frame_bytes: the limit checked before any payload allocation.
        v2: start in V2 framing (``False``: V1, as for the ``hello`` exchange).
        peer: names the other side in error messages (``worker 3 (pid 1234)``).
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        v2: bool = True,
        peer: str | None = None,
    ) -> None:
        self._stream = stream
        self.max_frame_bytes = max_frame_bytes
        self.v2 = v2
        self.peer = peer
        self._prefix = bytearray(_V2_PREFIX.size)

    def switch_to_v2(self) -> None:
        """Use V2 framing from the next frame on (after a V2 ``hello``)."""
        self.v2 = True

    def _fill(self, view: memoryview) -> int:
        """Read into ``view`` until it is full or EOF; returns bytes read."""
        got = 0
        size = len(view)
        readinto = getattr(self._stream, "readinto", None)
        while got < size:
            if readinto is not None:
                n = readinto(view[got:])
            else:
                chunk = self._stream.read(size - got)
                n = len(chunk) if chunk else 0
                view[got : got + n] = chunk or b""
            if not n:
                break
            got += n
        return got

    def _read_payload(self, length: int) -> tuple[bytearray, int]:
        """Read a ``length``-byte payload, its buffer growing as bytes arrive.

        Returns the buffer (``length`` bytes long when it all came) and the bytes read,
        fewer than ``length`` on EOF.
        """
        payload = bytearray(min(length, FIRST_READ_BYTES))
        with memoryview(payload) as view:
            got = self._fill(view)
        while got == len(payload) < length:
            # Growing reallocates the buffer (large ones are remapped by glibc, not copied) and
            # writes its new part once before the payload lands there: doubling in place copies
            # the part read so far (no source to fault in), the last step adds calloc'd zeros.
            if 2 * got <= length:
                payload *= 2
            else:
                payload += bytes(length - got)
            with memoryview(payload) as view:
                n = self._fill(view[got:])
            got += n
            if got < len(payload):
                break
        return payload, got

    def _first_bytes(self, seen: Buffer) -> bytes:
        head = bytes(seen[:FIRST_BYTES_LIMIT])
        return head + _read_available(self._stream, FIRST_BYTES_LIMIT - len(head))

    def read_frame(self) -> Frame | None:
        """Read one frame; ``None`` on a clean EOF between frames.

        Raises:
            FrameTooLongError: length above ``max_frame_bytes`` (nothing allocated).
            UnknownFrameTypeError: a V2 type byte outside the table.
            TruncatedFrameError: EOF inside the prefix or the payload.
        """
        prefix_size = _V2_PREFIX.size if self.v2 else _V1_PREFIX.size
        prefix = memoryview(self._prefix)[:prefix_size]
        got = self._fill(prefix)
        if got == 0:
            return None
        if got < prefix_size:
            raise TruncatedFrameError(
                f"stream ended inside a frame prefix ({got} of {prefix_size} bytes)",
                peer=self.peer,
                first_bytes=bytes(prefix[:got]),
            )
        if self.v2:
            length, type_byte = _V2_PREFIX.unpack(prefix)
        else:
            (length,) = _V1_PREFIX.unpack(prefix)
            type_byte = FrameType.JSON.value
        # The length is checked before the type: text printed on the channel
        # then always fails as FrameTooLong on its first four bytes (spec 1.3).
        if length > self.max_frame_bytes:
            raise FrameTooLongError(
                f"frame length {length} exceeds max_frame_bytes {self.max_frame_bytes}",
                peer=self.peer,
                first_bytes=self._first_bytes(prefix),
            )
        frame_type = _TYPES_BY_BYTE.get(type_byte)
        if frame_type is None:
            raise UnknownFrameTypeError(
                f"unknown frame type 0x{type_byte:02x} (frame length {length})",
                peer=self.peer,
                first_bytes=self._first_bytes(prefix),
            )
        payload, got = self._read_payload(length)
        view = memoryview(payload)
        if got < length:
            seen = bytes(prefix) + bytes(view[: min(got, FIRST_BYTES_LIMIT - prefix_size)])
            raise TruncatedFrameError(
                f"stream ended inside a {frame_type.name} frame payload "
                f"({got} of {length} bytes)",
                peer=self.peer,
                first_bytes=seen,
            )
        return Frame(frame_type, view)

    def __iter__(self) -> Iterator[Frame]:
        """Iterate frames until a clean EOF."""
        while (frame := self.read_frame()) is not None:
            yield frame


class FrameWriter:
    """Writes frames to a binary stream, refusing payloads over the limit.

    Args:
        stream: the channel; flushed after every :meth:`write_frame` /
            :meth:`write_frames` call (one call per message).
        max_frame_bytes: the largest payload written.
        v2: V2 framing (``False``: V1, JSON frames only).
        peer: names the other side in error messages.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        v2: bool = True,
        peer: str | None = None,
    ) -> None:
        self._stream = stream
        self.max_frame_bytes = max_frame_bytes
        self.v2 = v2
        self.peer = peer

    def switch_to_v2(self) -> None:
        """Use V2 framing from the next frame on."""
        self.v2 = True

    def check(self, frame_type: FrameType, payload: Buffer) -> None:
        """Raise if the frame cannot be written (too long, or not JSON on V1)."""
        if len(payload) > self.max_frame_bytes:
            raise FrameTooLongError(
                f"{frame_type.name} frame payload of {len(payload)} bytes exceeds "
                f"max_frame_bytes {self.max_frame_bytes}",
                peer=self.peer,
            )
        if not self.v2 and frame_type is not FrameType.JSON:
            raise ValueError(f"a V1 connection carries JSON frames only, not {frame_type.name}")

    def write_frames(self, frames: Iterable[tuple[FrameType, Buffer]]) -> None:
        """Write frames back to back and flush once (a message is contiguous).

        Every frame is checked before the first byte is written, so a refused
        frame never leaves half a message on the channel.
        """
        frames = list(frames)
        for frame_type, payload in frames:
            self.check(frame_type, payload)
        for frame_type, payload in frames:
            if self.v2:
                self._stream.write(_V2_PREFIX.pack(len(payload), int(frame_type)))
            else:
                self._stream.write(_V1_PREFIX.pack(len(payload)))
            self._stream.write(payload)
        self._stream.flush()

    def write_frame(self, frame_type: FrameType, payload: Buffer) -> None:
        """Write one frame and flush."""
        self.write_frames([(frame_type, payload)])
