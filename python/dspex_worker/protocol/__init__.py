"""The DSPex wire protocol (``docs/protocol.md``): frames, messages, negotiation.

Modules: :mod:`.errors` (the error family), :mod:`.frames` (framing and
limits), :mod:`.settings`, :mod:`.auto` (format choice), :mod:`.ref` (spill
files), :mod:`.headers` (header builders), :mod:`.payloads` (payload and header
decoding), :mod:`.message` (the message model), :mod:`.reader` and :mod:`.writer`
(messages from and to frames) and :mod:`.negotiation` (``hello``). The payload
codecs and the list of content formats are below this layer, in
:mod:`dspex_worker.codec`.
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
