"""The protocol error family of ``docs/protocol.md`` section 8.

Every error has a ``name`` class attribute: the spec name that a worker puts in
``error.type`` and that the golden manifest uses. The errors of framing, REF
files and message structure derive from :class:`ProtocolError`; the two a payload
codec raises (``CorruptedPayload``, ``EncodingError``) live with the codecs, in
:mod:`dspex_worker.codec.errors`, and are listed here with the others. Java
mirrors the family as ``<Name>Exception``.
"""

from __future__ import annotations

from dspex_worker.codec.errors import (
    CodecError,
    CorruptedPayloadError,
    EncodingError,
    render_first_bytes,
)


class ProtocolError(Exception):
    """Root of the protocol errors: a frame, a REF or a message broke the spec.

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


#: Errors after which the channel cannot be trusted (spec section 8).
FATAL_ERRORS: tuple[type[ProtocolError], ...] = (
    FrameTooLongError,
    TruncatedFrameError,
    UnknownFrameTypeError,
    UnexpectedFrameError,
)

#: Everything reading or writing a channel can raise for bad bytes or values: the
#: protocol's errors and the codecs'.
WIRE_ERRORS: tuple[type[Exception], ...] = (ProtocolError, CodecError)

#: Spec name -> class, for the golden manifest and for turning a remote
#: ``error.type`` back into a class.
ERRORS_BY_NAME: dict[str, type[ProtocolError] | type[CodecError]] = {
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


def spec_name(exc: BaseException) -> str | None:
    """The spec name of a protocol or codec error (``CorruptedPayload``), else ``None``."""
    return exc.name if isinstance(exc, WIRE_ERRORS) else None  # type: ignore[attr-defined]
