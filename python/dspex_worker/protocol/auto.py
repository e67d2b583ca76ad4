"""Body format choice: ``AUTO`` and forced formats (spec section 5).

:func:`plan_body` encodes one body and says how it travels: its content
format, its bytes, and whether it must be spilled to a REF file. It does no
I/O; the message writer inlines, frames or spills according to the plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dspex_worker.codec import json_codec, msgpack_codec, values
from dspex_worker.codec.errors import EncodingError
from dspex_worker.codec.formats import ARROW, JSON, MSGPACK, NAMES, body_format, native_format
from dspex_worker.protocol.errors import FrameTooLongError
from dspex_worker.protocol.ref import REF
from dspex_worker.protocol.settings import ProtocolSettings

AUTO = "auto"
#: What a caller may ask for: ``auto``, a content format, ``ref`` (AUTO's
#: content format, always spilled) or ``ref:<content format>``.
FORCED_FORMATS = (*NAMES, REF)


@dataclasses.dataclass(frozen=True, slots=True)
class BodyPlan:
    """How one body travels.

    Attributes:
        format: the content format (``json``, ``msgpack``, ``arrow``, ``numpy``).
        payload: the encoded body.
        ref: True when it goes as a REF file rather than in the pipe.
    """

    format: str
    payload: bytes
    ref: bool


def parse_format(spec: str | None) -> tuple[str | None, bool | None]:
    """Split a format request into (content format or None for AUTO, ref or None for AUTO).

    ``"auto"`` -> ``(None, None)``; ``"msgpack"`` -> ``("msgpack", False)``;
    ``"ref"`` -> ``(None, True)``; ``"ref:numpy"`` -> ``("numpy", True)``.
    """
    if spec is None or spec == AUTO:
        return None, None
    if spec == REF:
        return None, True
    forced = spec.removeprefix(f"{REF}:")
    if forced != spec and forced in NAMES:
        return forced, True
    if spec in NAMES:
        return spec, False
    raise ValueError(
        f"unknown body format {spec!r}; use auto, {', '.join(FORCED_FORMATS)} or ref:<format>"
    )


def encode_as(content: str, value: Any, name: str, path: str) -> bytes:
    """Encode ``value`` in one content format (errors name ``path``)."""
    return body_format(content).encode(value, name=name, path=path)


def auto_encode(value: Any, settings: ProtocolSettings, name: str, path: str) -> tuple[str, bytes]:
    """AUTO's content format for ``value`` and its encoding (spec section 5, rules 1-3)."""
    native = native_format(value)
    if native is not None:
        # An ndarray goes as NUMPY, an Arrow table as ARROW.
        return native.name, native.encode(value, name=name, path=path)
    if isinstance(value, (list, tuple)):
        count = len(value)
        item_types = set(map(type, value))
        records = bool(value) and all(issubclass(t, Mapping) for t in item_types)
        if records:
            if count >= settings.arrow_min_records:
                try:
                    return ARROW.name, ARROW.encode(value, name=name, path=path)
                except EncodingError:
                    # A column without an Arrow type: the records go as msgpack.
                    return MSGPACK.name, msgpack_codec.encode(value, path)
        elif (
            count >= settings.arrow_min_records
            and str in item_types
            and item_types <= {str, type(None)}
        ):
            return ARROW.name, ARROW.encode(value, name=name, path=path)
        small = count <= settings.json_max_records
    elif isinstance(value, Mapping):
        small = len(value) <= settings.json_max_records
    else:
        small = True
    if small and not values.scan(value, path):
        return JSON.name, json_codec.encode_checked(value, path)
    return MSGPACK.name, msgpack_codec.encode(value, path)


def plan_body(
    value: Any,
    settings: ProtocolSettings,
    *,
    name: str,
    path: str | None = None,
    fmt: str | None = AUTO,
    spill_available: bool,
) -> BodyPlan:
    """Encode one body and decide whether it goes in the pipe or as a REF.

    Args:
        value: the body.
        settings: thresholds and limits.
        name: the body's name (also the column name of a list of strings as Arrow).
        path: where the value sits, for error messages (default ``name``).
        fmt: ``auto`` (default), a content format, ``ref`` or ``ref:<format>``.
        spill_available: whether the peer has a spill directory.

    Raises:
        EncodingError: the value cannot be carried in the chosen format.
        FrameTooLongError: a forced inline format over ``max_frame_bytes``, an
            AUTO body over it with no spill directory, or a REF body over
            ``max_ref_bytes``.
        ValueError: an unknown format, or ``ref`` without a spill directory.
    """
    path = path or name
    content, ref = parse_format(fmt)
    if content is None:
        content, payload = auto_encode(value, settings, name, path)
    else:
        payload = encode_as(content, value, name, path)
    size = len(payload)
    if ref is None:
        ref = size >= settings.ref_min_bytes or size > settings.max_frame_bytes
        if ref and not spill_available:
            if size > settings.max_frame_bytes:
                raise FrameTooLongError(
                    f"body {name!r} is {size} bytes as {content}, over max_frame_bytes "
                    f"{settings.max_frame_bytes}, and the peer has no spill directory for a REF"
                )
            ref = False
    elif ref:
        if not spill_available:
            raise ValueError(f"body {name!r}: format 'ref' needs a spill directory (none in hello)")
    elif size > settings.max_frame_bytes:
        raise FrameTooLongError(
            f"body {name!r} is {size} bytes as {content}, over max_frame_bytes "
            f"{settings.max_frame_bytes}; use format AUTO or 'ref' to send it as a REF file"
        )
    if ref and size > settings.max_ref_bytes:
        raise FrameTooLongError(
            f"body {name!r} is {size} bytes as {content}, over max_ref_bytes "
            f"{settings.max_ref_bytes}"
        )
    return BodyPlan(content, payload, ref)
