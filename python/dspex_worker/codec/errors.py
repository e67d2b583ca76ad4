"""The errors codecs raise (``docs/protocol.md`` section 8), and how they show bad bytes.

Codecs are the bottom layer: they know values and bytes, not frames, peers or
channels, so their errors live here and carry only a message. Every class has
a ``name``: the spec name a worker puts in ``error.type``. The protocol layer
(:mod:`dspex_worker.protocol.errors`) lists them with its own errors.
"""

from __future__ import annotations

#: How many bytes of a bad payload or frame an error message shows.
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


class CodecError(Exception):
    """Root of the codec errors: a value a format cannot carry, or bytes it cannot read."""

    name = "CodecError"


class EncodingError(CodecError):
    """A value that the chosen format cannot carry (NaN in JSON, mixed Arrow column)."""

    name = "EncodingError"


class CorruptedPayloadError(CodecError):
    """A payload that is not valid for its type (or a header that is no map)."""

    name = "CorruptedPayload"
