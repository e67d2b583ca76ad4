"""Canonical JSON (spec section 3.1).

``json.dumps(ensure_ascii=False, separators=(",", ":"), allow_nan=False)``
already writes the spec's bytes: lowercase ``\\u00XX`` escapes for control
characters, raw UTF-8 for everything else (``/``, U+007F, U+2028), keys in
map order, and floats laid out by ``float.__repr__`` (shortest round-trip
digits, positional for ``-4 < e <= 16``). What it gets wrong for us is
handled around it: NaN/Infinity and bytes must fail naming the field, and
integer keys or unpaired surrogates must not pass silently.
"""

from __future__ import annotations

import json
from typing import Any

from dspex_worker.codec import values
from dspex_worker.codec.errors import CorruptedPayloadError, EncodingError, render_first_bytes

Buffer = bytes | bytearray | memoryview

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode(value: Any, path: str = "") -> bytes:
    """Encode ``value`` as canonical JSON bytes.

    Args:
        value: a value of the model (tuples are written as arrays).
        path: where ``value`` sits, to prefix error paths (``args.inputs``).

    Raises:
        EncodingError: NaN/Infinity, bytes, or any value outside the model,
            naming the field's path (``args.inputs[3].score``).
    """
    if values.scan(value, path):
        values.raise_encoding_error(value, path, json_mode=True)
    return encode_checked(value, path)


def encode_checked(value: Any, path: str = "") -> bytes:
    """Encode a value that :func:`values.scan` already found JSON-safe."""
    try:
        return _encoder.encode(value).encode("utf-8")
    except UnicodeEncodeError:
        values.raise_encoding_error(value, path, json_mode=True)
        raise  # unreachable: the walk finds the surrogate


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def decode(buffer: Buffer) -> Any:
    """Decode UTF-8 JSON text; numbers with ``.``/``e``/``E`` become floats.

    Raises:
        CorruptedPayloadError: invalid UTF-8, invalid JSON, or the
            non-standard ``NaN``/``Infinity`` literals.
    """
    try:
        text = str(buffer, "utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptedPayloadError(
            f"JSON payload is not valid UTF-8 ({exc.reason} at byte {exc.start}); "
            f"first bytes: {render_first_bytes(buffer)}"
        ) from None
    if not text:
        raise CorruptedPayloadError("empty JSON payload")
    try:
        # decode() rather than raw_decode(): trailing non-whitespace is an error.
        return _decoder.decode(text)
    except (ValueError, RecursionError) as exc:
        raise CorruptedPayloadError(
            f"invalid JSON payload ({exc}); first bytes: {render_first_bytes(buffer)}"
        ) from None


def encode_body(value: Any, *, name: str, path: str) -> bytes:
    """The registry's encoder (:mod:`.formats`): :func:`encode` with errors naming ``path``."""
    return encode(value, path)


#: The registry's decoder (:mod:`.formats`).
decode_body = decode

__all__ = ["encode", "encode_checked", "decode", "encode_body", "decode_body", "EncodingError"]
