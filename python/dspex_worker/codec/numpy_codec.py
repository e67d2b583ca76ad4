"""NPY version 1.0 images (spec section 3.4), byte-identical to NumPy's writer.

``numpy.lib.format.write_array(f, arr, version=(1, 0))`` writes the header
dict with sorted keys, then 21 minus ``len(repr(shape[0]))`` spare spaces
(room for the array to grow in place; none for a 0-d shape), then between
1 and 64 spaces of padding and ``\\n`` so that the data starts at a multiple
of 64. This module reproduces those bytes without going through a file
object and decodes with ``np.frombuffer`` (no copy).
"""

from __future__ import annotations

import ast
import math
import struct
from typing import Any

import numpy as np

from dspex_worker.codec.errors import CorruptedPayloadError, EncodingError, render_first_bytes

Buffer = bytes | bytearray | memoryview

MAGIC = b"\x93NUMPY\x01\x00"
#: The only dtypes on the wire (little-endian, C order).
DESCRS = ("<f4", "<f8", "<i4", "<i8")

_PREFIX = len(MAGIC) + 2
_ALIGN = 64
_GROWTH_AXIS_MAX_DIGITS = 21
_HEADER_KEYS = {"descr", "fortran_order", "shape"}


def header_bytes(descr: str, shape: tuple[int, ...]) -> bytes:
    """The magic, length and padded header dict for ``descr`` and ``shape``."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    if shape:
        text += " " * (_GROWTH_AXIS_MAX_DIGITS - len(repr(shape[0])))
    # Same arithmetic as NumPy: padding is 1..64 spaces, never 0.
    unpadded = len(text) + 1
    padding = _ALIGN - (_PREFIX + unpadded) % _ALIGN
    header = text.encode("ascii") + b" " * padding + b"\n"
    return MAGIC + struct.pack("<H", len(header)) + header


def _wire_array(value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise EncodingError(f"a numpy body must be a numpy.ndarray, not {type(value).__name__}")
    descr = value.dtype.newbyteorder("<").str
    if value.dtype.kind not in "fi" or descr not in DESCRS:
        raise EncodingError(
            f"numpy dtype {value.dtype} cannot be sent; use float32, float64, int32 or int64"
        )
    if value.dtype.str != descr:
        # Big-endian input: same values, wire byte order.
        value = value.astype(descr)
    # Not np.ascontiguousarray: it turns a 0-d array into shape (1,).
    return value if value.flags.c_contiguous else value.copy(order="C")


def encode(value: Any) -> bytearray:
    """Encode an ndarray of float32/float64/int32/int64 as an NPY 1.0 image.

    Big-endian and Fortran-ordered arrays are converted (same values).

    Raises:
        EncodingError: not an ndarray, or another dtype.
    """
    array = _wire_array(value)
    header = header_bytes(array.dtype.str, array.shape)
    # One copy of the data, straight into the image (header + tobytes() would make two).
    image = bytearray(len(header) + array.nbytes)
    image[: len(header)] = header
    if array.nbytes:
        np.frombuffer(image, dtype=array.dtype, offset=len(header)).reshape(array.shape)[...] = array
    return image


def _corrupted(reason: str, buffer: Buffer) -> CorruptedPayloadError:
    return CorruptedPayloadError(
        f"invalid NPY payload ({reason}); first bytes: {render_first_bytes(buffer)}"
    )


def parse_header(buffer: Buffer) -> tuple[str, tuple[int, ...], int]:
    """Validate an NPY image's header; return ``(descr, shape, data_offset)``.

    Raises:
        CorruptedPayloadError: bad magic or version, a header that is not the
            dict NumPy writes, an unsupported descr, ``fortran_order`` true.
    """
    view = memoryview(buffer)
    if len(view) < _PREFIX:
        raise _corrupted("shorter than the NPY prefix", buffer)
    if bytes(view[:6]) != MAGIC[:6]:
        raise _corrupted("bad magic", buffer)
    if bytes(view[6:8]) != MAGIC[6:8]:
        raise _corrupted(f"version {view[6]}.{view[7]}, expected 1.0", buffer)
    (header_len,) = struct.unpack("<H", view[8:10])
    data_offset = _PREFIX + header_len
    if data_offset > len(view):
        raise _corrupted(f"header length {header_len} runs past the payload", buffer)
    try:
        text = bytes(view[_PREFIX:data_offset]).decode("ascii")
        # literal_eval evaluates literals only; the header is at most 64 KiB.
        header = ast.literal_eval(text)
    except (UnicodeDecodeError, ValueError, SyntaxError, MemoryError, RecursionError):
        raise _corrupted("header is not a Python literal dict", buffer) from None
    if not isinstance(header, dict) or set(header) != _HEADER_KEYS:
        raise _corrupted("header must have exactly descr, fortran_order and shape", buffer)
    descr, fortran_order, shape = header["descr"], header["fortran_order"], header["shape"]
    if descr not in DESCRS:
        raise _corrupted(f"descr {descr!r} is not one of {', '.join(DESCRS)}", buffer)
    if fortran_order is not False:
        raise _corrupted("fortran_order must be False", buffer)
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        raise _corrupted(f"shape {shape!r} is not a tuple of non-negative integers", buffer)
    return descr, shape, data_offset


def decode(buffer: Buffer) -> np.ndarray:
    """Decode an NPY 1.0 image into an ndarray that views ``buffer`` (no copy).

    The array is read-only when ``buffer`` is (a REF mapping).

    Raises:
        CorruptedPayloadError: see :func:`parse_header`, or a data length that
            does not match the shape exactly.
    """
    descr, shape, offset = parse_header(buffer)
    dtype = np.dtype(descr)
    count = math.prod(shape)
    expected = count * dtype.itemsize
    actual = len(buffer) - offset
    if actual != expected:
        raise _corrupted(
            f"data is {actual} bytes, shape {shape} of {descr} needs {expected}", buffer
        )
    return np.frombuffer(buffer, dtype=dtype, count=count, offset=offset).reshape(shape)


def encode_body(value: Any, *, name: str, path: str) -> bytes:
    """The registry's encoder (:mod:`.formats`).

    Raises:
        EncodingError: as :func:`encode`, the message prefixed with ``path``.
    """
    try:
        return encode(value)
    except EncodingError as exc:
        raise EncodingError(f"{path}: {exc}") from None


#: The registry's decoder (:mod:`.formats`): an ndarray viewing the buffer.
decode_body = decode


def plain(value: np.ndarray) -> Any:
    """An array as nested lists, for a peer that takes JSON only."""
    return value.tolist()
