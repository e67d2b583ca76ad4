"""Decoding payloads: body payloads by content format, header maps, a header's body list.

The message reader (:mod:`.reader`) and the message model (:mod:`.message`) call these;
the content formats come from :mod:`dspex_worker.codec.formats`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dspex_worker.codec.errors import CorruptedPayloadError
from dspex_worker.codec.formats import MSGPACK, NAMES, body_format
from dspex_worker.protocol.frames import Buffer, Frame


def decode_payload(content_format: str, payload: Buffer) -> Any:
    """Decode a body payload of a content format (Arrow -> records, NPY -> ndarray)."""
    return body_format(content_format).decode(payload)


def decode_header_payload(frame: Frame) -> dict[str, Any]:
    """Decode a header or stream map; it must be a map with an integer ``id``.

    Raises:
        CorruptedPayloadError: invalid payload, not a map, or no integer id.
    """
    # A header frame says its format; stream maps are MessagePack (spec section 6).
    content = frame.type.content_format if frame.type.is_header else MSGPACK
    value = content.decode(frame.payload)
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
            or entry.get("format") not in NAMES
        ):
            raise CorruptedPayloadError(f"header body entry {entry!r} is not {{name, format}}")
        specs.append((entry["name"], entry["format"]))
    names = [name for name, _ in specs]
    if len(set(names)) != len(names):
        raise CorruptedPayloadError(f"header body names are not unique: {names}")
    return specs
