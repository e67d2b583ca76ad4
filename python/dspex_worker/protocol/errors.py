"""The protocol error family of ``docs/protocol.md`` section 8.

Every error has a ``name`` class attribute: the spec name that a worker puts in
``error.type`` and that the golden manifest uses. Java mirrors the family as
``<Name>Exception`` under ``ProtocolException``.
"""

from __future__ import annotations

FIRST_BYTES_LIMIT = 32


def render_first_bytes(data: bytes | bytearray | memoryview, limit: int = FIRST_BYTES_LIMIT) -> str:
    """Render up to ``limit`` bytes as hex and as ASCII, e.g. ``48 54 |HT|``.

    Non-printable bytes show as ``.`` in the ASCII part, so garbage such as a
    banner or a traceback printed onto the channel is recognisable in a log.
    """
    head = bytes(data[:limit])
    hex_part = " ".join(f"{b:02x}" for b in head)
    ascii_part = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in head)
    return f"{hex_part} |{ascii_part}|"


class ProtocolError(Exception):
    """Root of the protocol errors: the channel or a payload broke the spec.

    ``peer`` names the other side where known (``worker 3 (pid 1234)``) and
    ``first_bytes`` holds the bytes seen at the start of the offending frame.
    Both are added to the message so that a log line alone explains the
    failure.
    """

    name = "ProtocolError"

    def __init__(
        self,
        message: str,
        *,
        peer: str | None = None,
        first_bytes: bytes | None = None,
    ) -> None:
        self.detail = message
        self.peer = peer
        self.first_bytes = first_bytes
        text = message
        if first_bytes is not None:
            text = f"{text}; first bytes: {render_first_bytes(first_bytes)}"
        if peer:
            text = f"{peer}: {text}"
        super().__init__(text)


class FrameTooLongError(ProtocolError):
    """A frame or REF length above its limit, or a body too large to write."""

    name = "FrameTooLong"


class TruncatedFrameError(ProtocolError):
    """The stream ended inside a frame prefix or payload."""

    name = "TruncatedFrame"


class UnknownFrameTypeError(ProtocolError):
    """A type byte that is not in the frame type table."""

    name = "UnknownFrameType"


class CorruptedPayloadError(ProtocolError):
    """A payload that is not valid for its type (or a header that is no map)."""

    name = "CorruptedPayload"


class UnexpectedFrameError(ProtocolError):
    """A frame out of place, or fewer body frames than the header listed."""

    name = "UnexpectedFrame"


class RefNotFoundError(ProtocolError):
    """A REF path that names no regular file in the spill directory."""

    name = "RefNotFound"


class RefOutOfRangeError(ProtocolError):
    """A REF offset/length that is negative or not inside the file."""

    name = "RefOutOfRange"


class RefOutsideSpillDirError(ProtocolError):
    """A REF path that is absolute, has ``..`` or resolves outside the spill dir."""

    name = "RefOutsideSpillDir"


class EncodingError(ProtocolError):
    """A value that the chosen format cannot carry (NaN in JSON, mixed Arrow column)."""

    name = "EncodingError"


#: Errors after which the channel cannot be trusted (spec section 8).
FATAL_ERRORS: tuple[type[ProtocolError], ...] = (
    FrameTooLongError,
    TruncatedFrameError,
    UnknownFrameTypeError,
    UnexpectedFrameError,
)

#: Spec name -> class, for the golden manifest and for turning a remote
#: ``error.type`` back into a class.
ERRORS_BY_NAME: dict[str, type[ProtocolError]] = {
    cls.name: cls
    for cls in (
        FrameTooLongError,
        TruncatedFrameError,
        UnknownFrameTypeError,
        CorruptedPayloadError,
        UnexpectedFrameError,
        RefNotFoundError,
        RefOutOfRangeError,
        RefOutsideSpillDirError,
        EncodingError,
    )
}
