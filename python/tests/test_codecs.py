"""Codecs (JSON, MessagePack, Arrow, NPY) and the AUTO format choice."""

from __future__ import annotations

import io
import math
import struct

import msgpack
import numpy as np
import pyarrow as pa
import pytest

from dspex_worker.codec import arrow_codec, json_codec, msgpack_codec, numpy_codec, values
from dspex_worker.protocol.auto import BodyPlan, parse_format, plan_body
from dspex_worker.codec.errors import CorruptedPayloadError, EncodingError
from dspex_worker.protocol.errors import FrameTooLongError
from dspex_worker.protocol.settings import ProtocolSettings

# The AUTO rules are tested at fixed thresholds, so that retuning the defaults from the codec
# benchmark does not rewrite these cases.
SETTINGS = ProtocolSettings(json_max_records=16, arrow_min_records=1000)


def records(n: int, **extra: object) -> list[dict[str, object]]:
    return [{"id": i, "text": f"row {i}", "score": i / 4, **extra} for i in range(n)]


# -- JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (1.0, "1.0"),
        (-2.5, "-2.5"),
        (100.0, "100.0"),
        (1e-05, "1e-05"),
        (0.0001, "0.0001"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (-0.0, "-0.0"),
        (1e22, "1e+22"),
        (0.30000000000000004, "0.30000000000000004"),
        (2**63 - 1, "9223372036854775807"),
        (-(2**63), "-9223372036854775808"),
    ],
)
def test_json_numbers_follow_python_repr_layout(value: float, text: str) -> None:
    assert json_codec.encode(value) == text.encode()


def test_json_strings_escape_exactly_as_specified() -> None:
    value = '"\\\b\t\n\f\r\u0000\u0001\u001f\u007f/\u2028é😀'
    expected = '"\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u0001\\u001f\u007f/\u2028é😀"'
    assert json_codec.encode(value) == expected.encode("utf-8")


def test_json_is_compact_and_keeps_key_order() -> None:
    assert json_codec.encode({"b": [1, 2], "a": {"z": None, "y": True}}) == (
        b'{"b":[1,2],"a":{"z":null,"y":true}}'
    )


def test_json_encodes_tuples_as_arrays() -> None:
    assert json_codec.encode({"t": (1, "x")}) == b'{"t":[1,"x"]}'


def test_json_nan_fails_naming_the_field_path() -> None:
    header = {"args": {"inputs": [{"score": 1.0}, {"score": 2.0}, {}, {"score": math.nan}]}}
    with pytest.raises(EncodingError, match=r"^args\.inputs\[3\]\.score: nan cannot be encoded"):
        json_codec.encode(header)


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_json_infinity_fails_with_path_under_given_root(value: float) -> None:
    with pytest.raises(EncodingError, match=r"^args\.inputs\[1\]: -?inf"):
        json_codec.encode([0.5, value], "args.inputs")


def test_json_bytes_fail_naming_the_path() -> None:
    with pytest.raises(EncodingError, match=r"^blob\.data: bytes cannot be encoded as JSON"):
        json_codec.encode({"blob": {"data": b"\x00"}})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1: "x"}, "map key 1 is not a string"),
        ({"s": "\ud800"}, r"s: string has an unpaired surrogate"),
        ([2**63], r"\[0\]: integer 9223372036854775808 is outside"),
        ({"o": object()}, "o: a value of type object is not a protocol value"),
    ],
)
def test_json_rejects_values_outside_the_model(value: object, message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        json_codec.encode(value)


def test_json_decode_tells_floats_from_integers() -> None:
    decoded = json_codec.decode(b'{"i":1,"f":1.0,"e":1e5,"E":2E-1,"n":-0}')
    assert [type(v) for v in decoded.values()] == [int, float, float, float, int]


@pytest.mark.parametrize(
    "payload", [b"{", b'{"a":1} x', b"\xff", b"NaN", b"[Infinity]", b"", b"\xef\xbb\xbf{}"]
)
def test_json_decode_rejects_invalid_payloads(payload: bytes) -> None:
    with pytest.raises(CorruptedPayloadError):
        json_codec.decode(payload)


def test_json_decode_reads_a_memoryview() -> None:
    assert json_codec.decode(memoryview(bytearray(b'{"a":"\xc3\xa9"}'))) == {"a": "é"}


# -- MessagePack -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "hexed"),
    [
        (0, "00"),
        (127, "7f"),
        (128, "cc80"),
        (255, "ccff"),
        (256, "cd0100"),
        (65535, "cdffff"),
        (65536, "ce00010000"),
        (2**32 - 1, "ceffffffff"),
        (2**32, "cf0000000100000000"),
        (-1, "ff"),
        (-32, "e0"),
        (-33, "d0df"),
        (-128, "d080"),
        (-129, "d1ff7f"),
        (-32768, "d18000"),
        (-32769, "d2ffff7fff"),
        (-(2**31), "d280000000"),
        (-(2**31) - 1, "d3ffffffff7fffffff"),
        (1.0, "cb3ff0000000000000"),
        ("", "a0"),
        (b"", "c400"),
        ([], "90"),
        ({}, "80"),
        (None, "c0"),
        (True, "c3"),
    ],
)
def test_msgpack_uses_smallest_encodings(value: object, hexed: str) -> None:
    assert msgpack_codec.encode(value).hex() == hexed


@pytest.mark.parametrize(
    ("nbytes", "head"), [(31, "bf"), (32, "d920"), (256, "da0100"), (65536, "db00010000")]
)
def test_msgpack_str_header_follows_utf8_byte_length(nbytes: int, head: str) -> None:
    text = "é" * (nbytes // 2) + "x" * (nbytes % 2)
    assert msgpack_codec.encode(text).hex().startswith(head)


def test_msgpack_collections_switch_to_16_bit_headers_at_16_entries() -> None:
    assert msgpack_codec.encode(list(range(15)))[0] == 0x9F
    assert msgpack_codec.encode(list(range(16)))[:3] == b"\xdc\x00\x10"
    assert msgpack_codec.encode({f"k{i}": i for i in range(16)})[:3] == b"\xde\x00\x10"


def test_msgpack_writes_every_nan_as_the_canonical_quiet_nan() -> None:
    negative_nan = struct.unpack(">d", bytes.fromhex("fff8000000000001"))[0]
    encoded = msgpack_codec.encode({"a": [negative_nan, math.nan, math.inf]})
    assert encoded.hex() == "81a16193cb7ff8000000000000cb7ff8000000000000cb7ff0000000000000"


def test_msgpack_round_trips_the_value_model() -> None:
    value = {"n": None, "b": False, "i": -(2**63), "f": -0.0, "s": "漢", "y": b"\x00", "l": [[], {}]}
    decoded = msgpack_codec.decode(msgpack_codec.encode(value))
    assert decoded == value and math.copysign(1, decoded["f"]) == -1


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xc1", "not a valid MessagePack"),
        (b"\x01\x02", "trailing bytes"),
        (b"\x92\x01", "truncated"),
        (b"", "empty payload"),
        (b"\x81\x01\x02", "map key"),
        (b"\x81\xc4\x01k\x01", "map key b'k' is not a string"),
        (b"\xd4\x05\x00", "ext types are not allowed"),
        (b"\xc7\x00\x05", "ext types are not allowed"),
        (b"\xd6\xff\x00\x00\x00\x01", "ext types are not allowed"),
        (b"\x91\xd7\xff" + bytes(8), "ext types are not allowed"),
        (b"\xc7\x00\xff", "ext types are not allowed"),
        (b"\xa2\xff\xfe", "utf-8"),
        (b"\xdd\xff\xff\xff\xff", ""),
    ],
)
def test_msgpack_decode_is_strict(payload: bytes, reason: str) -> None:
    with pytest.raises(CorruptedPayloadError, match=f"(?i){reason}"):
        msgpack_codec.decode(payload)


def test_msgpack_decode_accepts_bytes_that_only_look_like_a_timestamp_marker() -> None:
    assert msgpack_codec.decode(msgpack_codec.encode(b"\xd6\xff")) == b"\xd6\xff"


@pytest.mark.parametrize("value", [{1: 2}, [2**64 - 1], {"x": {1.5: 1}}, [np.float32(1.0)]])
def test_msgpack_encode_rejects_values_outside_the_model(value: object) -> None:
    with pytest.raises(EncodingError):
        msgpack_codec.encode(value)


def test_value_scan_reports_what_json_cannot_carry_without_raising() -> None:
    assert values.scan({"a": [1, 2.5, "x", None, True]}) == 0
    assert values.scan([{"a": math.nan}]) == values.NONFINITE
    assert values.scan([[b"x"]]) == values.BYTES
    assert values.scan([1e308, 1e308]) == 0  # the sum overflows, the values do not


def test_value_scan_stops_a_cycle_with_an_error() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(EncodingError, match="nested deeper"):
        values.scan(cycle)


# -- NPY -------------------------------------------------------------------------


def _numpy_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, array, version=(1, 0))
    return out.getvalue()


@pytest.mark.parametrize("dtype", ["<f4", "<f8", "<i4", "<i8"])
@pytest.mark.parametrize(
    "shape", [(), (0,), (5,), (2, 3), (0, 384), (7, 1, 2), (10**9, 0), (1,) * 20]
)
def test_npy_encoding_is_byte_identical_to_numpy_write_array(
    dtype: str, shape: tuple[int, ...]
) -> None:
    array = np.arange(math.prod(shape), dtype=dtype).reshape(shape)
    assert numpy_codec.encode(array) == _numpy_bytes(array)


def test_npy_encoding_converts_big_endian_and_fortran_order() -> None:
    array = np.asfortranarray(np.arange(6, dtype=">f8").reshape(2, 3))
    assert numpy_codec.encode(array) == _numpy_bytes(np.ascontiguousarray(array.astype("<f8")))


def test_npy_decode_views_the_buffer_without_copying() -> None:
    payload = bytearray(numpy_codec.encode(np.arange(6, dtype="<f4").reshape(2, 3)))
    array = numpy_codec.decode(memoryview(payload))
    payload[-4:] = struct.pack("<f", 42.0)
    assert array[1, 2] == 42.0


def test_npy_decode_keeps_nan_and_infinity() -> None:
    array = numpy_codec.decode(numpy_codec.encode(np.array([np.nan, np.inf, -np.inf], "<f4")))
    assert np.isnan(array[0]) and array[1] == np.inf and array[2] == -np.inf


@pytest.mark.parametrize("dtype", ["<f2", "|i1", "<u4", "bool", "<c8"])
def test_npy_encode_refuses_other_dtypes(dtype: str) -> None:
    with pytest.raises(EncodingError, match="float32, float64, int32 or int64"):
        numpy_codec.encode(np.zeros(3, dtype=dtype))


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b"\x93NUMPX" + b[6:], "bad magic"),
        (lambda b: b[:6] + b"\x02\x00" + b[8:], "version 2.0"),
        (lambda b: b[:9], "shorter"),
        (lambda b: b[:8] + b"\xff\xff" + b[10:], "runs past"),
        (lambda b: b + b"\x00", "data is 25 bytes"),
        (lambda b: b[:-1], "data is 23 bytes"),
        (lambda b: b.replace(b"'<f4'", b"'>f4'"), "descr '>f4'"),
        (lambda b: b.replace(b"'<f4'", b"'<u4'"), "descr '<u4'"),
        (lambda b: b.replace(b"False", b"True "), "fortran_order"),
        (lambda b: b.replace(b"(2, 3)", b"(2,-3)"), "shape"),
        (lambda b: b.replace(b"{'descr'", b"__import__"), "literal"),
    ],
)
def test_npy_decode_validates_strictly(mutate: object, reason: str) -> None:
    payload = mutate(numpy_codec.encode(np.zeros((2, 3), dtype="<f4")))  # type: ignore[operator]
    with pytest.raises(CorruptedPayloadError, match=reason):
        numpy_codec.decode(payload)


# -- Arrow -----------------------------------------------------------------------


def test_arrow_infers_column_types_from_the_spec_table() -> None:
    rows = [
        {"i": 1, "f": 0.5, "m": 1, "s": "x", "b": True, "y": b"\x00", "l": ["a"], "n": None},
        {"i": None, "f": 1.5, "m": 2.5, "s": "y", "b": False, "y": None, "l": None, "n": None,
         "late": 3},
    ]
    decoded, schema = arrow_codec.decode_with_schema(arrow_codec.encode(rows))
    assert schema == [
        {"name": "i", "type": "int64"},
        {"name": "f", "type": "float64"},
        {"name": "m", "type": "float64"},
        {"name": "s", "type": "utf8"},
        {"name": "b", "type": "bool"},
        {"name": "y", "type": "binary"},
        {"name": "l", "type": "list<utf8>"},
        {"name": "n", "type": "null"},
        {"name": "late", "type": "int64"},
    ]
    assert decoded[0]["late"] is None and decoded[1]["m"] == 2.5 and decoded[0]["m"] == 1.0


def test_arrow_mixed_column_fails_naming_the_column() -> None:
    with pytest.raises(EncodingError, match="column 'answer' mixes int and str"):
        arrow_codec.encode([{"answer": "4"}, {"answer": 4}])


def test_arrow_zero_rows_keep_the_schema() -> None:
    schema = [{"name": "id", "type": "int64"}, {"name": "tags", "type": "list<utf8>"}]
    assert arrow_codec.decode_with_schema(arrow_codec.encode([], schema)) == ([], schema)


def test_arrow_writes_one_record_batch() -> None:
    payload = arrow_codec.encode(records(10))
    reader = pa.ipc.open_stream(pa.py_buffer(payload))
    assert sum(1 for _ in reader) == 1 and payload.endswith(arrow_codec.EOS)


def test_arrow_decode_widens_the_variants_other_writers_produce() -> None:
    table = pa.table(
        {
            "a": pa.array([1, 2], pa.int8()),
            "u": pa.array([3, 4], pa.uint32()),
            "f": pa.array([0.5, None], pa.float32()),
            "s": pa.array(["x", "y"], pa.large_string()),
            "y": pa.array([b"x", b""], pa.large_binary()),
            "l": pa.array([[1, 2], [3, 4]], pa.list_(pa.int16(), 2)),
            "L": pa.array([["q"], []], pa.large_list(pa.string())),
        }
    )
    decoded, schema = arrow_codec.decode_with_schema(arrow_codec.encode_table(table))
    assert [f["type"] for f in schema] == [
        "int64", "int64", "float64", "utf8", "binary", "list<int64>", "list<utf8>"
    ]
    assert decoded[0] == {"a": 1, "u": 3, "f": 0.5, "s": "x", "y": b"x", "l": [1, 2], "L": ["q"]}


@pytest.mark.parametrize(
    "arrow_type", [pa.uint64(), pa.float16(), pa.timestamp("s"), pa.struct([("x", pa.int8())])]
)
def test_arrow_decode_refuses_types_outside_the_model(arrow_type: pa.DataType) -> None:
    table = pa.table({"c": pa.array([None], arrow_type)})
    with pytest.raises(CorruptedPayloadError, match="not in the protocol's value model"):
        arrow_codec.decode(arrow_codec.encode_table(table))


@pytest.mark.parametrize("suffix", [b"x", b""])
def test_arrow_decode_refuses_trailing_bytes_or_a_missing_end_marker(suffix: bytes) -> None:
    payload = arrow_codec.encode(records(2))
    bad = payload + suffix if suffix else payload[: -len(arrow_codec.EOS)]
    with pytest.raises(CorruptedPayloadError):
        arrow_codec.decode(bad)


def test_arrow_table_decode_is_zero_copy() -> None:
    payload = bytearray(arrow_codec.encode([{"v": float(i)} for i in range(100)]))
    table = arrow_codec.decode_table(memoryview(payload))
    start = pa.py_buffer(payload).address
    data_address = table.column("v").chunks[0].buffers()[1].address
    assert start <= data_address < start + len(payload)


def test_arrow_list_of_strings_becomes_one_column_named_after_the_body() -> None:
    assert arrow_codec.decode(arrow_codec.encode(["a", None], column="texts")) == [
        {"texts": "a"},
        {"texts": None},
    ]


# -- AUTO ------------------------------------------------------------------------


def plan(
    value: object, fmt: str = "auto", *, spill: bool = False, settings: ProtocolSettings = SETTINGS
) -> BodyPlan:
    return plan_body(
        value, settings, name="inputs", path="args.inputs", fmt=fmt, spill_available=spill
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.zeros((3, 4), dtype="<f4"), "numpy"),
        (records(16), "json"),
        (records(17), "msgpack"),
        (records(999), "msgpack"),
        (records(1000), "arrow"),
        (records(2, score=math.nan), "msgpack"),
        (records(2, blob=b"x"), "msgpack"),
        ([{"a": 1}] * 500 + [{"a": "x"}] * 500, "msgpack"),
        (["text"] * 1000, "arrow"),
        (["text"] * 999, "msgpack"),
        (["text"] * 16, "json"),
        ({"k": 1}, "json"),
        ({f"k{i}": i for i in range(17)}, "msgpack"),
        ({"k": b"bytes"}, "msgpack"),
        ("a string", "json"),
        (pa.table({"a": [1]}), "arrow"),
        ([], "json"),
    ],
)
def test_auto_picks_the_format_of_the_spec_rules(value: object, expected: str) -> None:
    body = plan(value)
    assert (body.format, body.ref) == (expected, False)


def test_parse_format_understands_auto_forced_and_ref() -> None:
    assert parse_format("auto") == (None, None)
    assert parse_format("arrow") == ("arrow", False)
    assert parse_format("ref") == (None, True)
    assert parse_format("ref:numpy") == ("numpy", True)
    with pytest.raises(ValueError, match="unknown body format"):
        parse_format("xml")


def test_forced_json_with_nan_fails_naming_the_path() -> None:
    with pytest.raises(EncodingError, match=r"args\.inputs\[1\]\.score"):
        plan([{"score": 1.0}, {"score": math.nan}], "json")


def test_forced_format_too_large_fails_naming_max_frame_bytes() -> None:
    small = SETTINGS.with_max_frame_bytes(1000)
    with pytest.raises(FrameTooLongError, match="max_frame_bytes 1000; use format AUTO or 'ref'"):
        plan(records(100), "msgpack", spill=True, settings=small)


def test_auto_sends_a_body_over_max_frame_bytes_as_ref() -> None:
    small = SETTINGS.with_max_frame_bytes(1000)
    body = plan(records(100), spill=True, settings=small)
    assert (body.format, body.ref) == ("msgpack", True)


def test_auto_body_over_max_frame_bytes_without_spill_dir_is_frame_too_long() -> None:
    small = SETTINGS.with_max_frame_bytes(1000)
    with pytest.raises(FrameTooLongError, match="no spill directory"):
        plan(records(100), settings=small)


def test_auto_spills_at_ref_min_bytes_only_when_a_spill_dir_exists() -> None:
    low = SETTINGS.with_ref_min_bytes(100)
    assert plan(np.zeros(100, "<f4"), spill=True, settings=low).ref
    assert not plan(np.zeros(100, "<f4"), spill=False, settings=low).ref
    assert not plan(np.zeros(10, "<f4"), spill=True, settings=low.with_ref_min_bytes(10_000)).ref


def test_forced_ref_keeps_auto_content_format_and_needs_a_spill_dir() -> None:
    body = plan(records(3), "ref", spill=True)
    assert (body.format, body.ref) == ("json", True)
    with pytest.raises(ValueError, match="needs a spill directory"):
        plan(records(3), "ref")


def test_forced_ref_body_over_max_ref_bytes_is_frame_too_long() -> None:
    tiny = SETTINGS.with_max_ref_bytes(10)
    with pytest.raises(FrameTooLongError, match="max_ref_bytes 10"):
        plan(records(3), "ref", spill=True, settings=tiny)


def test_settings_checks_values_and_reads_hello_args() -> None:
    settings = ProtocolSettings.from_hello_args({"max_frame_bytes": 1024, "protocols": ["v2"]})
    assert settings.max_frame_bytes == 1024
    assert (settings.json_max_records, settings.arrow_min_records) == (3, 10_000)
    with pytest.raises(ValueError, match="json_max_records must be an integer"):
        SETTINGS.with_json_max_records(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_frame_bytes must be in 1..4294967295"):
        SETTINGS.with_max_frame_bytes(2**32)


def test_msgpack_matches_reference_library_for_plain_values() -> None:
    value = {"a": [1, -200, 70000, 2**40, 0.25, "é" * 40, b"\x01" * 300, None, True]}
    assert msgpack_codec.encode(value) == msgpack.packb(value, use_bin_type=True)
