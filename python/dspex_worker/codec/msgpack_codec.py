"""Canonical MessagePack (spec section 3.2).

msgpack-python already picks the smallest int/str/bin/array/map encodings
and writes floats as float 64 when ``use_single_float`` is off. On top of it
this module enforces the value model when encoding (string keys, int64
range, canonical NaN bits) and the strict rules when decoding (exactly one
value, string keys only, no ext types).
"""

from __future__ import annotations

from typing import Any

import msgpack

from dspex_worker.codec import values
from dspex_worker.codec.errors import CorruptedPayloadError, render_first_bytes

Buffer = bytes | bytearray | memoryview


class _Rejected(Exception):
    """Raised inside msgpack hooks; turned into CorruptedPayloadError."""


def encode(value: Any, path: str = "") -> bytes:
    """Encode ``value`` as canonical MessagePack.

    Raises:
        EncodingError: a value outside the model, naming its path.
    """
    if values.scan(value, path) & values.NONFINITE:
        value = values.canonical_nans(value)
    try:
        return msgpack.packb(value, use_bin_type=True, datetime=False)
    except (UnicodeEncodeError, ValueError, TypeError, OverflowError):
        values.raise_encoding_error(value, path, json_mode=False)
        raise  # unreachable: the walk names the problem


def _reject_ext(code: int, data: bytes) -> Any:
    raise _Rejected("ext types are not allowed")


def _check_keys(mapping: dict[Any, Any]) -> dict[Any, Any]:
    # strict_map_key=True still lets bin keys (bytes) through.
    for key in mapping:
        if type(key) is not str:
            raise _Rejected(f"map key {key!r} is not a string")
    return mapping


def decode(buffer: Buffer) -> Any:
    """Decode exactly one MessagePack value filling ``buffer``.

    Raises:
        CorruptedPayloadError: invalid or truncated data, trailing bytes,
            a non-string map key, an ext type, or invalid UTF-8 in a str.
    """
    size = len(buffer)
    try:
        value = msgpack.unpackb(
            buffer,
            raw=False,
            use_list=True,
            strict_map_key=True,
            object_hook=_check_keys,
            ext_hook=_reject_ext,
            # Containers cannot claim more elements than the payload has
            # bytes, so a tiny payload cannot make the decoder allocate much.
            max_str_len=size,
            max_bin_len=size,
            max_array_len=size,
            max_map_len=size // 2,
            # msgpack-python decodes the timestamp ext type (-1) without asking
            # ext_hook; a zero limit makes every ext with data fail in the C
            # decoder, and ext_hook catches the data-less rest.
            max_ext_len=0,
        )
    except msgpack.ExtraData as exc:
        raise CorruptedPayloadError(
            f"MessagePack payload has trailing bytes after one value "
            f"({len(exc.extra)} extra); first bytes: {render_first_bytes(buffer)}"
        ) from None
    except (_Rejected, ValueError, TypeError, RecursionError, msgpack.UnpackException) as exc:
        reason = str(exc) or "not a valid MessagePack encoding"
        if "incomplete input" in reason:
            reason = "empty payload" if size == 0 else "truncated value"
        elif "max_ext_len" in reason or "timestamp" in reason:
            reason = "ext types are not allowed"
        raise CorruptedPayloadError(
            f"invalid MessagePack payload ({reason}); first bytes: {render_first_bytes(buffer)}"
        ) from None
    return value


def encode_body(value: Any, *, name: str, path: str) -> bytes:
    """The registry's encoder (:mod:`.formats`): :func:`encode` with errors naming ``path``."""
    return encode(value, path)


#: The registry's decoder (:mod:`.formats`).
decode_body = decode
