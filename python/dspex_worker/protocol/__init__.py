"""The DSPex wire protocol (``docs/protocol.md``): frames, messages, negotiation.

Modules: :mod:`.errors` (the error family), :mod:`.frames` (framing and
limits), :mod:`.settings`, :mod:`.auto` (format choice), :mod:`.ref` (spill
files), :mod:`.headers` (header builders), :mod:`.messages` (message
reader/writer) and :mod:`.negotiation` (``hello``).
"""

from dspex_worker.protocol.errors import (
    CorruptedPayloadError,
    EncodingError,
    FrameTooLongError,
    ProtocolError,
    RefNotFoundError,
    RefOutOfRangeError,
    RefOutsideSpillDirError,
    TruncatedFrameError,
    UnexpectedFrameError,
    UnknownFrameTypeError,
)
from dspex_worker.protocol.frames import Frame, FrameReader, FrameType, FrameWriter
from dspex_worker.protocol.settings import DEFAULT_SETTINGS, ProtocolSettings

__all__ = [
    "CorruptedPayloadError",
    "DEFAULT_SETTINGS",
    "EncodingError",
    "Frame",
    "FrameReader",
    "FrameTooLongError",
    "FrameType",
    "FrameWriter",
    "ProtocolError",
    "ProtocolSettings",
    "RefNotFoundError",
    "RefOutOfRangeError",
    "RefOutsideSpillDirError",
    "TruncatedFrameError",
    "UnexpectedFrameError",
    "UnknownFrameTypeError",
]
