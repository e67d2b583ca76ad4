"""Reading ``testdata/frames/manifest.json`` and comparing decoded values with it."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from dspex_worker.codec import arrow_codec, json_codec, msgpack_codec, numpy_codec
from dspex_worker.protocol.frames import Frame, FrameType
from dspex_worker.protocol.ref import RefInfo, SpillDir

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"
FRAMES_DIR = TESTDATA / "frames"
TS = "2026-11-26T15:09:42.123Z"

_FLOAT_TAGS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def load_manifest() -> dict[str, Any]:
    """The manifest, parsed."""
    return json.loads((FRAMES_DIR / "manifest.json").read_text(encoding="utf-8"))


def untag(value: Any) -> Any:
    """A manifest value as a protocol value (``$float`` and ``$bytes`` resolved)."""
    if isinstance(value, dict):
        if set(value) == {"$float"}:
            return _FLOAT_TAGS[value["$float"]]
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"])
        return {key: untag(item) for key, item in value.items()}
    if isinstance(value, list):
        return [untag(item) for item in value]
    return value


def assert_same(actual: Any, expected: Any, path: str = "value") -> None:
    """Strict equality: types must match (1 is not 1.0), NaN equals NaN, -0.0 is not 0.0."""
    if isinstance(expected, float):
        assert type(actual) is float, f"{path}: {actual!r} is not a float (expected {expected!r})"
        if math.isnan(expected):
            assert math.isnan(actual), f"{path}: {actual!r} != nan"
        else:
            assert actual == expected and math.copysign(1, actual) == math.copysign(1, expected), (
                f"{path}: {actual!r} != {expected!r}"
            )
    elif isinstance(expected, bool) or expected is None:
        assert actual is expected, f"{path}: {actual!r} is not {expected!r}"
    elif isinstance(expected, int):
        assert type(actual) is int and actual == expected, f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, (bytes, bytearray)):
        assert isinstance(actual, (bytes, bytearray)) and bytes(actual) == bytes(expected), (
            f"{path}: {actual!r} != {expected!r}"
        )
    elif isinstance(expected, str):
        assert type(actual) is str and actual == expected, f"{path}: strings differ"
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {type(actual).__name__} is not a map"
        assert list(actual) == list(expected), f"{path}: keys {list(actual)} != {list(expected)}"
        for key in expected:
            assert_same(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: {type(actual).__name__} is not a list"
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for index, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{path}[{index}]")
    else:
        raise AssertionError(f"{path}: unexpected manifest value {expected!r}")


def manifest_array(entry: dict[str, Any]) -> np.ndarray:
    """The ndarray a NUMPY manifest frame describes."""
    return np.array(untag(entry["data"]), dtype=entry["dtype"]).reshape(entry["shape"])


def decode_frame(frame: Frame, spill: SpillDir | None = None) -> Any:
    """Decode one frame's payload by its type (REF resolved and decoded by its format)."""
    if frame.type is FrameType.REF:
        if spill is None:
            spill = SpillDir(FRAMES_DIR)
        ref = RefInfo.decode(frame.payload)
        content = spill.open(ref)
        return decode_content(ref.format, content)
    if frame.type is FrameType.JSON:
        return json_codec.decode(frame.payload)
    if frame.type is FrameType.ARROW:
        return arrow_codec.decode_with_schema(frame.payload)
    if frame.type is FrameType.NUMPY:
        return numpy_codec.decode(frame.payload)
    return msgpack_codec.decode(frame.payload)


def decode_content(content_format: str, payload: Any) -> Any:
    """Decode bytes of a content format (Arrow with its schema)."""
    if content_format == "arrow":
        return arrow_codec.decode_with_schema(payload)
    return decode_frame(Frame(FrameType[content_format.upper()], payload))


def assert_matches_entry(decoded: Any, entry: dict[str, Any], path: str) -> None:
    """Compare a decoded frame (see :func:`decode_frame`) with its manifest FRAME."""
    kind = entry["type"]
    if kind == "REF":
        assert_matches_entry(decoded, entry["content"], f"{path}.content")
    elif kind == "ARROW":
        records, schema = decoded
        assert schema == entry["schema"], f"{path}: schema {schema} != {entry['schema']}"
        assert_same(records, untag(entry["records"]), f"{path}.records")
    elif kind == "NUMPY":
        assert isinstance(decoded, np.ndarray)
        assert decoded.dtype.str == entry["dtype"], f"{path}: dtype {decoded.dtype.str}"
        assert list(decoded.shape) == entry["shape"], f"{path}: shape {decoded.shape}"
        assert_same(decoded.ravel().tolist(), untag(entry["data"]), f"{path}.data")
    else:
        assert_same(decoded, untag(entry["value"]), path)


def encode_entry(entry: dict[str, Any]) -> bytes:
    """Canonical payload bytes for a manifest FRAME (ARROW: a fresh, non-canonical stream)."""
    kind = entry["type"]
    if kind in ("V1", "JSON"):
        return json_codec.encode(untag(entry["value"]))
    if kind == "ARROW":
        return arrow_codec.encode(untag(entry["records"]), entry["schema"])
    if kind == "NUMPY":
        return numpy_codec.encode(manifest_array(entry))
    if kind == "REF":
        return RefInfo(**entry["value"]).encode()
    return msgpack_codec.encode(untag(entry["value"]))
