"""The content formats of a body, listed once (``docs/protocol.md`` sections 1.1 and 3).

Each :class:`BodyFormat` gives a format's wire name (``json``), its V2 frame type byte,
the codec module that encodes and decodes it, and what it can carry. Framing, REF frames,
the body format choice (AUTO), message reading and writing and ``hello`` all read
:data:`FORMATS`; nothing else lists the formats.

A codec module is imported the first time its format is used, so a worker that never
sees an Arrow body never imports pyarrow. It offers (see :class:`Codec`):

- ``encode_body(value, *, name, path) -> bytes``: the body ``name``; errors name ``path``;
- ``decode_body(buffer) -> value``;
- ``plain(value)``, when the format has ``native`` types: such a value as plain data
  (lists, maps), for a peer that takes JSON only.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from typing import Any, Protocol

Buffer = bytes | bytearray | memoryview


class Codec(Protocol):
    """What a codec module offers the registry."""

    def encode_body(self, value: Any, *, name: str, path: str) -> bytes:
        """Encode body ``name``; an ``EncodingError`` names ``path`` (``result.outputs``)."""

    def decode_body(self, buffer: Buffer) -> Any:
        """Decode a payload; ``CorruptedPayloadError`` when it is not valid."""


@dataclasses.dataclass(frozen=True)
class BodyFormat:
    """One content format.

    Attributes:
        name: the wire name, in headers, REF maps, settings and metrics (``msgpack``).
        frame_type: the V2 frame type byte of a body frame in this format.
        module: the codec module (imported on first use).
        header: it can carry a message header or stream map.
        records: it can carry a list of records (maps of field values).
        arrays: it can carry an n-dimensional numeric array as such (dtype and shape).
        native: ``(module, type)`` names of the values that already are this format's own
            container (``numpy.ndarray``); checked without importing the module.
    """

    name: str
    frame_type: int
    module: str
    header: bool = False
    records: bool = False
    arrays: bool = False
    native: tuple[tuple[str, str], ...] = ()

    @property
    def frame_name(self) -> str:
        """The frame type's name (``MSGPACK``)."""
        return self.name.upper()

    def codec(self) -> Codec:
        """The codec module, imported now if it was not yet."""
        return importlib.import_module(self.module)  # type: ignore[return-value]

    def encode(self, value: Any, *, name: str, path: str) -> bytes:
        """Encode body ``name`` in this format (errors name ``path``)."""
        return self.codec().encode_body(value, name=name, path=path)

    def decode(self, buffer: Buffer) -> Any:
        """Decode a payload of this format."""
        return self.codec().decode_body(buffer)

    def holds(self, value: Any) -> bool:
        """True when ``value`` is one of this format's own containers."""
        # Such a value can only exist once its library is imported; never import it here.
        for module, attribute in self.native:
            library = sys.modules.get(module)
            if library is not None and isinstance(value, getattr(library, attribute)):
                return True
        return False

    def plain(self, value: Any) -> Any:
        """One of this format's own containers as plain data (lists, maps)."""
        return self.codec().plain(value)  # type: ignore[attr-defined]


JSON = BodyFormat("json", 0x00, "dspex_worker.codec.json_codec", header=True, records=True)
MSGPACK = BodyFormat("msgpack", 0x01, "dspex_worker.codec.msgpack_codec", header=True, records=True)
ARROW = BodyFormat(
    "arrow",
    0x02,
    "dspex_worker.codec.arrow_codec",
    records=True,
    native=(("pyarrow", "Table"), ("pyarrow", "RecordBatch")),
)
NUMPY = BodyFormat(
    "numpy", 0x03, "dspex_worker.codec.numpy_codec", arrays=True, native=(("numpy", "ndarray"),)
)

#: Every content format, in frame type order.
FORMATS: tuple[BodyFormat, ...] = (JSON, MSGPACK, ARROW, NUMPY)
#: Their wire names.
NAMES: tuple[str, ...] = tuple(f.name for f in FORMATS)

_BY_NAME = {f.name: f for f in FORMATS}


def body_format(name: str) -> BodyFormat:
    """The format of wire name ``name``.

    Raises:
        ValueError: no such content format.
    """
    found = _BY_NAME.get(name)
    if found is None:
        raise ValueError(f"unknown content format {name!r}")
    return found


def native_format(value: Any) -> BodyFormat | None:
    """The format whose own container ``value`` is (an ndarray: numpy), if any."""
    return next((f for f in FORMATS if f.native and f.holds(value)), None)
