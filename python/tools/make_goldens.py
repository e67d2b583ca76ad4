"""Writes the golden protocol frames in ``testdata/frames`` (see its README.md).

Run it only to add a case: ``.venv/bin/python python/tools/make_goldens.py``.
A change to an existing file is a protocol change. The output is
deterministic: running it twice gives identical files.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

import numpy as np  # noqa: E402

from dspex_worker.codec import arrow_codec, json_codec, msgpack_codec, numpy_codec  # noqa: E402
from dspex_worker.protocol import headers  # noqa: E402
from dspex_worker.protocol.frames import FrameType, encode_frame, encode_v1_frame  # noqa: E402
from dspex_worker.protocol.ref import RefInfo  # noqa: E402

FRAMES_DIR = ROOT / "testdata" / "frames"
TS = "2026-11-26T15:09:42.123Z"

Entry = tuple[dict[str, Any], bytes]


# -- manifest values ----------------------------------------------------------


def tag(value: Any) -> Any:
    """A value as manifest JSON: NaN/inf and bytes become tagged maps."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": "nan" if value != value else ("inf" if value > 0 else "-inf")}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {key: tag(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [tag(item) for item in value]
    return value


# -- frames ------------------------------------------------------------------


def v1(value: Any) -> Entry:
    """A V1 frame holding ``value`` as JSON."""
    return {"type": "V1", "value": tag(value)}, encode_v1_frame(json_codec.encode(value))


def js(value: Any) -> Entry:
    """A V2 JSON frame."""
    payload = json_codec.encode(value)
    return {"type": "JSON", "value": tag(value)}, encode_frame(FrameType.JSON, payload)


def mp(value: Any) -> Entry:
    """A V2 MSGPACK frame."""
    payload = msgpack_codec.encode(value)
    return {"type": "MSGPACK", "value": tag(value)}, encode_frame(FrameType.MSGPACK, payload)


def arrow(schema: list[dict[str, str]], records: list[dict[str, Any]]) -> Entry:
    """An ARROW frame of ``records`` typed by ``schema``."""
    payload = arrow_codec.encode(records, schema)
    entry = {"type": "ARROW", "schema": schema, "records": tag(records)}
    return entry, encode_frame(FrameType.ARROW, payload)


def npy_entry(array: np.ndarray) -> dict[str, Any]:
    """The manifest FRAME describing an NPY image of ``array``."""
    return {
        "type": "NUMPY",
        "dtype": array.dtype.str,
        "shape": list(array.shape),
        "data": tag(array.ravel().tolist()),
    }


def npy(array: np.ndarray) -> Entry:
    """A NUMPY frame."""
    return npy_entry(array), encode_frame(FrameType.NUMPY, numpy_codec.encode(array))


def ref(info: RefInfo, content: dict[str, Any]) -> Entry:
    """A REF frame; ``content`` is the FRAME describing the referenced bytes."""
    entry = {"type": "REF", "value": info.to_map(), "content": content}
    return entry, encode_frame(FrameType.REF, info.encode())


def stream(kind: FrameType, value: dict[str, Any]) -> Entry:
    """A stream frame (its map as MessagePack)."""
    return {"type": kind.name, "value": tag(value)}, encode_frame(kind, msgpack_codec.encode(value))


def raw(frame_type: int, payload: bytes) -> bytes:
    """A V2 frame with any type byte and payload (for the error cases)."""
    return struct.pack(">IB", len(payload), frame_type) + payload


# -- values ------------------------------------------------------------------


def utf8_string(nbytes: int) -> str:
    """A string of exactly ``nbytes`` UTF-8 bytes that starts with a 2-byte character."""
    return "é" + "x" * (nbytes - 2)


LARGE_STRING = "DSPex golden " * 5000 + "é漢😀" * 400 + "end"

UNICODE = {
    "accents": "àéîõü ÇÑ ß",
    "cjk": "漢字 かな カナ 한국어",
    "emoji": "😀🎉👍🏽",
    "quote": 'say "hi"',
    "backslash": "C:\\path\\to",
    "controls": "\u0000\u0001\b\t\n\u000b\f\r\u001e\u001f",
    "del": "\u007f",
    "separators": "a\u2028b\u2029c",
    "slash": "a/b</script>",
    "mixed": 'é"\\\n😀/\u0001',
    "empty": "",
    "key é 漢": "non-ASCII key",
}

FLOATS = [
    0.1,
    1.0,
    -2.5,
    100.0,
    1e-05,
    0.0001,
    1e16,
    1e15,
    123456789.123,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -0.0,
    0.0,
    1e22,
    0.30000000000000004,
    1.5e300,
    1234.5,
    0.001,
    9999999999999998.0,
    9007199254740992.0,
    12345678901234567890.0,
    -1.5e-10,
]

INTS = [0, -1, 2**53, 2**53 + 1, -(2**63), 2**63 - 1]

MSGPACK_VALUES = {
    "uints": [0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1],
    "ints": [
        -1,
        -32,
        -33,
        -128,
        -129,
        -32768,
        -32769,
        -(2**31),
        -(2**31) - 1,
        -(2**63),
    ],
    "floats": [0.0, -0.0, 1.5, 0.1, 1e300],
    "strs": {
        f"len{n}": utf8_string(n) if n >= 2 else "x" * n
        for n in (0, 1, 31, 32, 255, 256, 65535, 65536)
    },
    "bins": [b"", b"\x00\x01\xff", bytes(range(256))[:255], bytes(256), bytes(65535), bytes(65536)],
    "nested": {"a": [1, [2, [3, {"b": None, "c": [True, False]}]]]},
    "nulls": [None, None],
    "empty_map": {},
    "empty_list": [],
    "map15": {f"k{i:02d}": i for i in range(15)},
    "map16": {f"k{i:02d}": i for i in range(16)},
    "array15": list(range(15)),
    "array16": list(range(16)),
}

RECORDS = [
    {"question": "What is DSPy?", "context": None, "k": 3},
    {"question": "2+2?", "context": "math", "k": 1},
]

ARROW_SCHEMA = [
    {"name": "id", "type": "int64"},
    {"name": "score", "type": "float64"},
    {"name": "text", "type": "utf8"},
    {"name": "ok", "type": "bool"},
    {"name": "tags", "type": "list<utf8>"},
    {"name": "blob", "type": "binary"},
    {"name": "maybe", "type": "int64"},
    {"name": "nothing", "type": "null"},
]
ARROW_RECORDS = [
    {
        "id": 1,
        "score": 0.5,
        "text": "héllo",
        "ok": True,
        "tags": ["a", "b"],
        "blob": b"\x00\x01",
        "maybe": 7,
        "nothing": None,
    },
    {
        "id": -2,
        "score": float("nan"),
        "text": None,
        "ok": False,
        "tags": [],
        "blob": None,
        "maybe": None,
        "nothing": None,
    },
    {
        "id": 2**40,
        "score": -1e300,
        "text": "漢字😀",
        "ok": None,
        "tags": None,
        "blob": b"",
        "maybe": None,
        "nothing": None,
    },
]

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/opt/dspex/handlers.py", line 42, in predict\n'
    "    raise ValueError(\"signature has no output field\")\n"
    "ValueError: signature has no output field\n"
)

VECTORS = (np.arange(32, dtype="<f4") * np.float32(0.25) - np.float32(2.0)).reshape(4, 8)
BLOB_OFFSET = 5000
BLOB_BODY = [{"question": "q1", "answer": "a1"}, {"question": "q2", "answer": None}]


def filler(size: int, seed: bytes) -> bytes:
    """Deterministic padding bytes around REF bodies."""
    return (seed * (size // len(seed) + 1))[:size]


# -- cases -------------------------------------------------------------------


def hello_result(protocol: str) -> dict[str, Any]:
    """A hello result with fixed versions and pid (real ones vary by machine)."""
    formats = ["json", "msgpack", "arrow", "numpy", "ref"] if protocol == "v2" else ["json"]
    return {
        "protocol": protocol,
        "worker_version": "0.1.0",
        "versions": {"python": "3.11.7", "numpy": "2.4.6", "pyarrow": "26.0.1", "msgpack": "1.2.4"},
        "pid": 1234,
        "capabilities": {
            "formats": formats,
            "streaming": protocol == "v2",
            "handlers": ["ping", "echo", "echo_stream", "shutdown"],
        },
    }


def build_cases(blob_ref: RefInfo, vectors_ref: RefInfo) -> list[dict[str, Any]]:
    """The valid cases, each with its wire bytes under ``_bytes``."""
    cases: list[dict[str, Any]] = []

    def case(name: str, kind: str, description: str, *entries: Entry) -> None:
        """Add a case made of ``entries``."""
        cases.append(
            {
                "name": name,
                "file": f"{name}.bin",
                "kind": kind,
                "description": description,
                "frames": [entry for entry, _ in entries],
                "_bytes": b"".join(data for _, data in entries),
            }
        )

    hello_args = {
        "protocols": ["v2", "v1"],
        "client_version": "0.1.0",
        "spill_dir": "/dev/shm/dspex-1a2b",
    }
    case(
        "v1_hello_request",
        "frames",
        "The client's first frame, always V1-framed (spec 7.1).",
        v1(headers.request_header(0, "hello", hello_args, TS)),
    )
    case(
        "v1_hello_response_v2",
        "frames",
        "A V2 worker's V1-framed hello answer; V2 framing follows (spec 7.2).",
        v1(headers.response_header(0, hello_result("v2"), TS)),
    )
    case(
        "v1_hello_response_v1",
        "frames",
        "The answer to a hello offering only v1: the connection stays V1 (spec 7.4).",
        v1(headers.response_header(0, hello_result("v1"), TS)),
    )
    case(
        "v1_legacy_ping_request",
        "frames",
        "A legacy V1 client's ping (it never sends hello).",
        v1(headers.request_header(1, "ping", {}, TS)),
    )
    case(
        "v1_legacy_ping_response",
        "frames",
        "The original bridge's ping answer.",
        v1({"id": 1, "success": True, "result": {"status": "ok"}, "timestamp": TS}),
    )
    case(
        "v1_legacy_error_response",
        "frames",
        "The original bridge refusing hello with a plain-string error; readers turn it "
        "into {type: RemoteError, message} (spec 2.2).",
        v1({"id": 0, "success": False, "error": "Unknown command: hello", "timestamp": TS}),
    )
    case(
        "json_request_inline_records",
        "message",
        "A JSON request whose body 'inputs' (two records) travels inline in args.",
        js(headers.request_header(1, "predict", {"handle": "h1", "n": 2, "inputs": RECORDS}, TS)),
    )
    case(
        "json_unicode_strings",
        "frames",
        "JSON string escaping: quote, backslash, \\b\\t\\n\\f\\r, other controls as "
        "lowercase \\u00XX, and raw UTF-8 for '/', U+007F, U+2028/2029 and non-ASCII.",
        js(UNICODE),
    )
    case(
        "json_floats",
        "frames",
        "JSON numbers: floats in Python repr layout (shortest round trip, positional for "
        "-4 < e <= 16, -0.0), integers at the 2**53 and int64 edges.",
        js({"floats": FLOATS, "ints": INTS}),
    )
    case(
        "json_large_string",
        "frames",
        "A JSON string longer than 65,536 bytes with multibyte characters.",
        js(LARGE_STRING),
    )
    case(
        "msgpack_large_string",
        "frames",
        "The same string as MessagePack (str32).",
        mp(LARGE_STRING),
    )
    case(
        "msgpack_values",
        "frames",
        "Smallest MessagePack encodings at every boundary: ints (fixint, uint8..uint64, "
        "int8..int64), str by UTF-8 length (fixstr/str8/str16/str32), bin8/16/32, "
        "fixmap/map16, fixarray/array16, nested values, nulls, empty map and list.",
        mp(MSGPACK_VALUES),
    )
    case(
        "msgpack_header_nonfinite_bytes",
        "message",
        "A header that holds NaN, +-Infinity and bytes goes as MSGPACK (spec 2).",
        mp(
            headers.request_header(
                2,
                "run",
                {
                    "handler": "score",
                    "threshold": float("nan"),
                    "upper": float("inf"),
                    "lower": float("-inf"),
                    "salt": b"\x00\xffsalt",
                },
                TS,
            )
        ),
    )
    outputs_schema = [
        {"name": "answer", "type": "utf8"},
        {"name": "confidence", "type": "float64"},
    ]
    outputs = [{"answer": "4", "confidence": 0.9}, {"answer": None, "confidence": None}]
    case(
        "request_full_bodies",
        "message",
        "A JSON request header followed by MSGPACK, ARROW and NUMPY body frames.",
        js(
            headers.request_header(
                3,
                "predict",
                {"handle": "h1", "n": 2},
                TS,
                headers.body_list(
                    [("inputs", "msgpack"), ("examples", "arrow"), ("vectors", "numpy")]
                ),
            )
        ),
        mp(RECORDS),
        arrow(outputs_schema, outputs),
        npy(np.array([[0.5, -1.25], [3.0, 0.0]], dtype="<f4")),
    )
    case(
        "response_full_bodies",
        "message",
        "A response with an inline result plus MSGPACK and NUMPY bodies.",
        js(
            headers.response_header(
                3,
                {
                    "ok": 1,
                    "failed": [{"index": 1, "type": "ValueError", "message": "no answer"}],
                    "usage": headers.usage_map(120, 30, 2),
                },
                TS,
                headers.body_list([("outputs", "msgpack"), ("vectors", "numpy")]),
            )
        ),
        mp([{"answer": "4"}, None]),
        npy(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype="<f4")),
    )
    case(
        "error_response_traceback",
        "message",
        "An error response with type, message and traceback.",
        js(
            headers.error_response_header(
                4,
                headers.error_map("ValueError", "signature has no output field", TRACEBACK),
                TS,
            )
        ),
    )
    case(
        "arrow_records",
        "frames",
        "Arrow records: int64, float64 (with NaN), utf8, bool, list<utf8>, binary, nulls in "
        "columns, an all-null int64 column and a null-typed column.",
        arrow(ARROW_SCHEMA, ARROW_RECORDS),
    )
    case(
        "arrow_empty_table",
        "frames",
        "A 0-row Arrow table that still carries its schema (no record batch).",
        arrow(
            [{"name": "id", "type": "int64"}, {"name": "text", "type": "utf8"}],
            [],
        ),
    )
    case(
        "numpy_f4_2x3",
        "frames",
        "NPY float32 (2, 3).",
        npy(np.array([[0.5, 1.5, -2.0], [1e-3, 3.25, 100.0]], dtype="<f4")),
    )
    case(
        "numpy_f8_5",
        "frames",
        "NPY float64 (5,).",
        npy(np.array([0.1, -0.0, 1e300, 5e-324, 2.5])),
    )
    case(
        "numpy_i4_2x2",
        "frames",
        "NPY int32 (2, 2) at the int32 edges.",
        npy(np.array([[0, -1], [2**31 - 1, -(2**31)]], dtype="<i4")),
    )
    case(
        "numpy_i8_3",
        "frames",
        "NPY int64 (3,) at the int64 edges.",
        npy(np.array([2**63 - 1, -(2**63), 42], dtype="<i8")),
    )
    case(
        "numpy_f8_scalar",
        "frames",
        "NPY float64 0-d (shape ()).",
        npy(np.array(2.5, dtype="<f8")),
    )
    case(
        "numpy_f4_empty_0x384",
        "frames",
        "NPY float32 (0, 384): an empty embedding matrix.",
        npy(np.zeros((0, 384), dtype="<f4")),
    )
    case(
        "numpy_f4_nonfinite",
        "frames",
        "NPY float32 holding NaN, +inf and -inf.",
        npy(np.array([float("nan"), float("inf"), float("-inf"), 1.0], dtype="<f4")),
    )
    case(
        "spilled_numpy_whole_file",
        "frames",
        "A REF to the whole of ref_vectors.npy (an NPY image).",
        ref(vectors_ref, npy_entry(VECTORS)),
    )
    case(
        "spilled_msgpack_offset",
        "frames",
        "A REF to a MessagePack body at a non-page-aligned offset inside ref_blob.bin.",
        ref(blob_ref, {"type": "MSGPACK", "value": tag(BLOB_BODY)}),
    )
    case(
        "request_ref_body",
        "message",
        "A request whose body 'trainset' is spilled: a REF frame stands for the msgpack body.",
        js(
            headers.request_header(
                5, "run", {"handler": "optimize"}, TS, headers.body_list([("trainset", "msgpack")])
            )
        ),
        ref(blob_ref, {"type": "MSGPACK", "value": tag(BLOB_BODY)}),
    )
    usage = headers.usage_map(12, 4, 1)
    case(
        "stream_sequence",
        "stream",
        "START, a CHUNK with a MSGPACK body, a CHUNK with failures and a JSON body frame, END.",
        stream(FrameType.STREAM_START, headers.stream_start(7, 5)),
        stream(
            FrameType.STREAM_CHUNK,
            headers.stream_chunk(7, [0, 1], [], usage, headers.body_list([("outputs", "msgpack")])),
        ),
        mp([{"answer": "a0"}, {"answer": "a1"}]),
        stream(
            FrameType.STREAM_CHUNK,
            headers.stream_chunk(
                7,
                [3],
                [
                    headers.failure(2, "ValueError", "record 2 asked to fail"),
                    headers.failure(4, "TimeoutError", "LM call timed out"),
                ],
                headers.usage_map(6, 2, 1),
                headers.body_list([("outputs", "json")]),
            ),
        ),
        js([{"answer": "a3"}]),
        stream(FrameType.STREAM_END, headers.stream_end(7, 3, 2, headers.usage_map(18, 6, 2))),
    )
    case(
        "stream_error",
        "stream",
        "START, then STREAM_ERROR: the handler itself broke.",
        stream(FrameType.STREAM_START, headers.stream_start(8, 3)),
        stream(
            FrameType.STREAM_ERROR,
            headers.stream_error(
                8, headers.error_map("RuntimeError", "handler crashed", TRACEBACK)
            ),
        ),
    )
    case(
        "empty_bodies",
        "message",
        "Empty bodies: MSGPACK [], a JSON body frame [] and NUMPY float32 (0,).",
        js(
            headers.request_header(
                6,
                "echo",
                {},
                TS,
                headers.body_list([("a", "msgpack"), ("b", "json"), ("c", "numpy")]),
            )
        ),
        mp([]),
        js([]),
        npy(np.zeros((0,), dtype="<f4")),
    )
    return cases


def build_errors(blob_size: int) -> list[dict[str, Any]]:
    """The error cases, each with its wire bytes under ``_bytes``."""
    errors: list[dict[str, Any]] = []

    def error(
        name: str, data: bytes, error_name: str, stage: str, description: str, **extra: Any
    ) -> None:
        """Add an error case."""
        entry = {"name": name, "file": f"bad/{name}.bin", "error": error_name, "stage": stage}
        entry.update(extra)
        entry["description"] = description
        entry["_bytes"] = data
        errors.append(entry)

    npy_2x3 = numpy_codec.encode(np.zeros((2, 3), dtype="<f4"))
    header_2x3 = numpy_codec.header_bytes("<f4", (2, 3))
    big_endian = numpy_codec.header_bytes("<f4", (3,)).replace(b"'<f4'", b"'>f4'") + bytes(12)
    fortran = numpy_codec.header_bytes("<f4", (2, 3)).replace(b"False", b"True ") + bytes(24)

    def ref_frame(value: dict[str, Any]) -> bytes:
        """A REF frame holding any map (valid or not)."""
        return raw(FrameType.REF, msgpack_codec.encode(value))

    def ref_map(path: str, offset: int, length: int, fmt: str = "msgpack") -> dict[str, Any]:
        """A REF map in the spec's key order."""
        return {"path": path, "offset": offset, "length": length, "format": fmt}

    error(
        "truncated_prefix",
        b"\x00\x00\x00",
        "TruncatedFrame",
        "frame",
        "The stream ends after 3 of the 5 prefix bytes.",
        first_bytes="00 00 00",
    )
    error(
        "truncated_payload",
        raw(FrameType.JSON, b'{"id":1,"command":"ping"}')[:12],
        "TruncatedFrame",
        "frame",
        "A JSON frame announcing 25 bytes ends after 7.",
        first_bytes="00 00 00 19 00",
    )
    error(
        "unknown_type_7f",
        raw(0x7F, b"{}"),
        "UnknownFrameType",
        "frame",
        "Type byte 0x7f (the length is small, so the type is what fails).",
        first_bytes="00 00 00 02 7f",
    )
    error(
        "length_7fffffff",
        b"\x7f\xff\xff\xff\x00" + b"{}",
        "FrameTooLong",
        "frame",
        "Length 0x7fffffff: refused before allocating anything.",
        first_bytes="7f ff ff ff",
    )
    error(
        "garbage_http",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>hi</body></html>\n",
        "FrameTooLong",
        "frame",
        "An HTTP response on the channel: 'HTTP' reads as length 1213486160 (checked before "
        "the type byte).",
        first_bytes="48 54 54 50",
    )
    error(
        "garbage_traceback",
        TRACEBACK.encode("utf-8"),
        "FrameTooLong",
        "frame",
        "A Python traceback printed onto the channel: 'Trac' reads as length 1416782179.",
        first_bytes="54 72 61 63",
    )
    error(
        "small_limit",
        raw(FrameType.MSGPACK, msgpack_codec.encode("x" * 997)),
        "FrameTooLong",
        "frame",
        "A valid 1000-byte MSGPACK frame read with max_frame_bytes 100.",
        max_frame_bytes=100,
        first_bytes="00 00 03 e8 01",
    )
    error(
        "json_invalid",
        raw(FrameType.JSON, b'{"id":1,"command":'),
        "CorruptedPayload",
        "payload",
        "JSON text that ends in the middle of an object.",
    )
    error(
        "json_invalid_utf8",
        raw(FrameType.JSON, b'{"text":"\xff\xfe"}'),
        "CorruptedPayload",
        "payload",
        "JSON with bytes that are not UTF-8.",
    )
    error(
        "json_nan_literal",
        raw(FrameType.JSON, b'{"score":NaN}'),
        "CorruptedPayload",
        "payload",
        "The non-standard NaN literal is not JSON.",
    )
    error(
        "json_header_list",
        raw(FrameType.JSON, b"[1,2,3]"),
        "CorruptedPayload",
        "message",
        "Valid JSON, but a header must be a map.",
    )
    error(
        "json_header_empty",
        raw(FrameType.JSON, b""),
        "CorruptedPayload",
        "message",
        "An empty JSON header payload.",
    )
    error(
        "msgpack_invalid_c1",
        raw(FrameType.MSGPACK, b"\xc1"),
        "CorruptedPayload",
        "payload",
        "0xc1 is never used in MessagePack.",
    )
    error(
        "msgpack_trailing_bytes",
        raw(FrameType.MSGPACK, b"\x01\x02"),
        "CorruptedPayload",
        "payload",
        "One value (1) followed by a stray byte.",
    )
    error(
        "msgpack_truncated",
        raw(FrameType.MSGPACK, b"\x93\x01\x02"),
        "CorruptedPayload",
        "payload",
        "An array of 3 that holds 2 values.",
    )
    error(
        "msgpack_int_map_key",
        raw(FrameType.MSGPACK, b"\x81\x01\x02"),
        "CorruptedPayload",
        "payload",
        "A map with an integer key.",
    )
    error(
        "msgpack_ext_type",
        raw(FrameType.MSGPACK, b"\xd4\x05\x00"),
        "CorruptedPayload",
        "payload",
        "An ext type (fixext1, type 5).",
    )
    error(
        "arrow_garbage",
        raw(FrameType.ARROW, b"this is not an Arrow IPC stream at all"),
        "CorruptedPayload",
        "payload",
        "Bytes that are no Arrow IPC stream.",
    )
    error(
        "npy_bad_magic",
        raw(FrameType.NUMPY, b"\x93NUMPZ" + npy_2x3[6:]),
        "CorruptedPayload",
        "payload",
        "NPY magic \\x93NUMPZ.",
    )
    error(
        "npy_data_length_mismatch",
        raw(FrameType.NUMPY, header_2x3 + bytes(20)),
        "CorruptedPayload",
        "payload",
        "Shape (2, 3) float32 needs 24 data bytes; 20 follow.",
    )
    error(
        "npy_big_endian",
        raw(FrameType.NUMPY, big_endian),
        "CorruptedPayload",
        "payload",
        "descr '>f4' (big-endian) is not allowed.",
    )
    error(
        "npy_fortran_order",
        raw(FrameType.NUMPY, fortran),
        "CorruptedPayload",
        "payload",
        "fortran_order True is not allowed.",
    )
    error(
        "ref_missing_file",
        ref_frame(ref_map("ref_missing.bin", 0, 10)),
        "RefNotFound",
        "payload",
        "A REF to a file that does not exist in the spill directory.",
    )
    error(
        "ref_out_of_range",
        ref_frame(ref_map("ref_blob.bin", blob_size - 10, 20)),
        "RefOutOfRange",
        "payload",
        f"offset {blob_size - 10} + length 20 runs past the end of ref_blob.bin "
        f"({blob_size} bytes).",
    )
    error(
        "ref_negative_offset",
        ref_frame(ref_map("ref_blob.bin", -1, 10)),
        "RefOutOfRange",
        "payload",
        "A negative offset.",
    )
    error(
        "ref_parent_path",
        ref_frame(ref_map("../manifest.json", 0, 10, "json")),
        "RefOutsideSpillDir",
        "payload",
        "A path with a '..' component.",
    )
    error(
        "ref_absolute_path",
        ref_frame(ref_map("/etc/passwd", 0, 10, "json")),
        "RefOutsideSpillDir",
        "payload",
        "An absolute path.",
    )
    error(
        "ref_length_over_max",
        ref_frame(ref_map("ref_blob.bin", 0, 2**35)),
        "FrameTooLong",
        "payload",
        "length 2**35 is above max_ref_bytes (16 GiB); checked before the file size.",
    )
    error(
        "ref_missing_key",
        ref_frame({"path": "ref_blob.bin", "offset": 0, "length": 10}),
        "CorruptedPayload",
        "payload",
        "A REF map without 'format'.",
    )
    error(
        "body_where_header_expected",
        npy_frame_bytes(),
        "UnexpectedFrame",
        "message",
        "A NUMPY body frame where a message header was expected.",
    )
    error(
        "missing_body_frame",
        encode_frame(
            FrameType.JSON,
            json_codec.encode(
                headers.request_header(
                    9, "echo", {}, TS, headers.body_list([("a", "msgpack"), ("b", "msgpack")])
                )
            ),
        )
        + encode_frame(FrameType.MSGPACK, msgpack_codec.encode([1])),
        "UnexpectedFrame",
        "message",
        "The header lists two body frames; the stream ends after one.",
    )
    error(
        "body_type_mismatch",
        encode_frame(
            FrameType.JSON,
            json_codec.encode(
                headers.request_header(10, "echo", {}, TS, headers.body_list([("a", "msgpack")]))
            ),
        )
        + encode_frame(FrameType.NUMPY, numpy_codec.encode(np.zeros((1,), dtype="<f4"))),
        "UnexpectedFrame",
        "message",
        "A body listed as msgpack arrives as a NUMPY frame.",
    )
    return errors


def npy_frame_bytes() -> bytes:
    """A small NUMPY frame, used where a header is expected."""
    return encode_frame(FrameType.NUMPY, numpy_codec.encode(np.zeros((2,), dtype="<f4")))


# -- output ------------------------------------------------------------------


def write_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` unless the file already holds it (keeps mtimes stable)."""
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def main() -> int:
    """Write every golden file and the manifest."""
    (FRAMES_DIR / "bad").mkdir(parents=True, exist_ok=True)
    vectors = numpy_codec.encode(VECTORS)
    blob_body = msgpack_codec.encode(BLOB_BODY)
    blob = filler(BLOB_OFFSET, b"DSPEX-FILLER-") + blob_body + filler(100, b"-TAIL")
    write_if_changed(FRAMES_DIR / "ref_vectors.npy", vectors)
    write_if_changed(FRAMES_DIR / "ref_blob.bin", blob)
    vectors_ref = RefInfo("ref_vectors.npy", 0, len(vectors), "numpy")
    blob_ref = RefInfo("ref_blob.bin", BLOB_OFFSET, len(blob_body), "msgpack")

    cases = build_cases(blob_ref, vectors_ref)
    errors = build_errors(len(blob))
    names = [entry["name"] for entry in cases + errors]
    assert len(set(names)) == len(names), "duplicate case names"
    for entry in cases + errors:
        write_if_changed(FRAMES_DIR / entry["file"], entry.pop("_bytes"))
    manifest = {"version": 1, "cases": cases, "errors": errors}
    text = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    write_if_changed(FRAMES_DIR / "manifest.json", text.encode("utf-8"))
    print(f"wrote {len(cases)} cases and {len(errors)} error cases to {FRAMES_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
