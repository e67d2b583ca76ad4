"""The golden frames in testdata/frames against the Python implementation.

Every case is decoded and compared with the manifest, and re-encoded from
the manifest byte for byte (Arrow: by decoded values). Every error case must
fail with exactly the named error. The generator is not run here.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from golden_support import (
    FRAMES_DIR,
    TS,
    assert_matches_entry,
    assert_same,
    decode_frame,
    encode_entry,
    load_manifest,
    manifest_array,
    untag,
)

from dspex_worker.codec import arrow_codec
from dspex_worker.protocol import headers
from dspex_worker.protocol.errors import ERRORS_BY_NAME
from dspex_worker.protocol.frames import Frame, FrameReader, FrameType, FrameWriter
from dspex_worker.protocol.message import StreamEvent
from dspex_worker.protocol.reader import MessageReader
from dspex_worker.protocol.writer import MessageWriter
from dspex_worker.protocol.ref import RefInfo, SpillDir
from dspex_worker.protocol.settings import DEFAULT_MAX_FRAME_BYTES

MANIFEST = load_manifest()
CASES = {case["name"]: case for case in MANIFEST["cases"]}
ERRORS = {error["name"]: error for error in MANIFEST["errors"]}


def _is_v1(case: dict[str, Any]) -> bool:
    return all(entry["type"] == "V1" for entry in case["frames"])


def _read_frames(case: dict[str, Any]) -> list[Frame]:
    data = (FRAMES_DIR / case["file"]).read_bytes()
    reader = FrameReader(io.BytesIO(data), v2=not _is_v1(case))
    frames = list(reader)
    assert len(frames) == len(case["frames"]), f"{case['name']}: frame count"
    return frames


def _writer(stream: io.BytesIO, *, v2: bool = True) -> MessageWriter:
    return MessageWriter(FrameWriter(stream, v2=v2), spill=None, clock=lambda: TS)


def test_manifest_lists_exactly_the_bin_files_in_the_folder() -> None:
    listed = {entry["file"] for entry in [*MANIFEST["cases"], *MANIFEST["errors"]]}
    present = {p.relative_to(FRAMES_DIR).as_posix() for p in FRAMES_DIR.rglob("*.bin")}
    present.discard("ref_blob.bin")
    assert listed == present


def test_manifest_names_only_known_errors_and_stages() -> None:
    for error in MANIFEST["errors"]:
        assert error["error"] in ERRORS_BY_NAME, error["name"]
        assert error["stage"] in ("frame", "payload", "message"), error["name"]


def test_golden_folder_stays_small() -> None:
    total = sum(p.stat().st_size for p in FRAMES_DIR.rglob("*") if p.is_file())
    assert total < 2 * 1024 * 1024


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_case_decodes_to_manifest_values(name: str) -> None:
    case = CASES[name]
    for index, (frame, entry) in enumerate(zip(_read_frames(case), case["frames"])):
        expected_type = "JSON" if entry["type"] == "V1" else entry["type"]
        assert frame.type.name == expected_type, f"{name} frame {index}"
        assert_matches_entry(decode_frame(frame), entry, f"{name}[{index}]")


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_case_reencodes_from_manifest_byte_for_byte(name: str) -> None:
    case = CASES[name]
    frames = _read_frames(case)
    rebuilt = b""
    for index, (frame, entry) in enumerate(zip(frames, case["frames"])):
        payload = encode_entry(entry)
        if entry["type"] == "ARROW":
            # Not byte-canonical: the fresh stream must decode to the same table.
            assert_matches_entry(arrow_codec.decode_with_schema(payload), entry, f"{name}[{index}]")
            payload = bytes(frame.payload)
        else:
            assert payload == bytes(frame.payload), f"{name} frame {index} differs"
        rebuilt += Frame(frame.type, payload).encode(v2=entry["type"] != "V1")
    assert rebuilt == (FRAMES_DIR / case["file"]).read_bytes()


@pytest.mark.parametrize(
    "name", sorted(n for n, c in CASES.items() if any(e["type"] == "REF" for e in c["frames"]))
)
def test_golden_ref_file_range_holds_the_canonical_content(name: str) -> None:
    for entry in CASES[name]["frames"]:
        if entry["type"] == "REF":
            ref = RefInfo(**entry["value"])
            data = (FRAMES_DIR / ref.path).read_bytes()[ref.offset : ref.offset + ref.length]
            assert data == encode_entry(entry["content"])
            assert SpillDir(FRAMES_DIR).open(ref).tobytes() == data


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c["kind"] == "message"))
def test_golden_message_assembles_header_and_listed_bodies(name: str) -> None:
    case = CASES[name]
    data = (FRAMES_DIR / case["file"]).read_bytes()
    reader = MessageReader(FrameReader(io.BytesIO(data)), spill=SpillDir(FRAMES_DIR))
    message = reader.read()
    assert message is not None and reader.read() is None
    header_entry, *body_entries = case["frames"]
    assert_same(message.header, untag(header_entry["value"]), "header")
    listed = message.header.get("body", [])
    assert [b["name"] for b in listed] == list(message.bodies)
    for spec, entry in zip(listed, body_entries):
        body = message.bodies[spec["name"]]
        assert body.format == spec["format"]
        expected = entry["content"] if entry["type"] == "REF" else entry
        if body.format == "arrow":
            assert message.body_schema(spec["name"]) == expected["schema"]
            assert_same(message.body(spec["name"]), untag(expected["records"]), spec["name"])
        elif body.format == "numpy":
            array = message.body(spec["name"])
            assert array.dtype.str == expected["dtype"] and list(array.shape) == expected["shape"]
            assert_same(array.ravel().tolist(), untag(expected["data"]), spec["name"])
        else:
            assert_same(message.body(spec["name"]), untag(expected["value"]), spec["name"])


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c["kind"] == "stream"))
def test_golden_stream_reads_as_start_chunks_then_one_end(name: str) -> None:
    case = CASES[name]
    data = (FRAMES_DIR / case["file"]).read_bytes()
    reader = MessageReader(FrameReader(io.BytesIO(data)))
    events = []
    while (event := reader.read()) is not None:
        assert isinstance(event, StreamEvent)
        events.append(event)
    kinds = [event.kind for event in events]
    assert kinds[0] is FrameType.STREAM_START
    assert kinds[-1] in (FrameType.STREAM_END, FrameType.STREAM_ERROR)
    assert all(kind is FrameType.STREAM_CHUNK for kind in kinds[1:-1])
    n = events[0].header["n"]
    reported = []
    for event in events[1:-1]:
        reported += event.header["indexes"] + [f["index"] for f in event.header["failed"]]
        assert list(event.bodies) == [b["name"] for b in event.header["body"]]
        assert len(event.body("outputs")) == len(event.header["indexes"])
    if kinds[-1] is FrameType.STREAM_END:
        assert sorted(reported) == list(range(n))


# -- the writers reproduce the goldens ------------------------------------------


def _golden_bytes(name: str) -> bytes:
    return (FRAMES_DIR / CASES[name]["file"]).read_bytes()


def test_message_writer_inlines_small_records_exactly_as_golden() -> None:
    out = io.BytesIO()
    header = untag(CASES["json_request_inline_records"]["frames"][0]["value"])
    args = dict(header["args"])
    inputs = args.pop("inputs")
    _writer(out).write_request(1, "predict", args, {"inputs": inputs})
    assert out.getvalue() == _golden_bytes("json_request_inline_records")


def test_message_writer_sends_nonfinite_header_as_msgpack_exactly_as_golden() -> None:
    out = io.BytesIO()
    header = untag(CASES["msgpack_header_nonfinite_bytes"]["frames"][0]["value"])
    _writer(out).write_request(2, "run", header["args"])
    assert out.getvalue() == _golden_bytes("msgpack_header_nonfinite_bytes")


def test_message_writer_error_response_matches_golden() -> None:
    out = io.BytesIO()
    header = untag(CASES["error_response_traceback"]["frames"][0]["value"])
    _writer(out).write_error(4, header["error"])
    assert out.getvalue() == _golden_bytes("error_response_traceback")


def test_message_writer_response_with_bodies_matches_golden() -> None:
    case = CASES["response_full_bodies"]
    header = untag(case["frames"][0]["value"])
    outputs = untag(case["frames"][1]["value"])
    vectors = manifest_array(case["frames"][2])
    out = io.BytesIO()
    _writer(out).write_response(
        3,
        header["result"],
        {"outputs": outputs, "vectors": vectors},
        formats={"outputs": "msgpack"},
    )
    assert out.getvalue() == _golden_bytes("response_full_bodies")


def test_message_writer_stream_frames_match_golden() -> None:
    values = [untag(entry.get("value")) for entry in CASES["stream_sequence"]["frames"]]
    start, chunk1, outputs1, chunk2, outputs2, end = values
    out = io.BytesIO()
    writer = _writer(out)
    writer.write_stream_start(7, start["n"])
    writer.write_stream_chunk(
        7, chunk1["indexes"], [], chunk1["usage"], {"outputs": outputs1}, formats="msgpack"
    )
    writer.write_stream_chunk(
        7, chunk2["indexes"], chunk2["failed"], chunk2["usage"], {"outputs": outputs2}
    )
    writer.write_stream_end(7, end["ok"], end["failed"], end["usage"])
    assert out.getvalue() == _golden_bytes("stream_sequence")


def test_message_writer_stream_error_matches_golden() -> None:
    _, error = (untag(e["value"]) for e in CASES["stream_error"]["frames"])
    out = io.BytesIO()
    writer = _writer(out)
    writer.write_stream_start(8, 3)
    writer.write_stream_error(8, error["error"])
    assert out.getvalue() == _golden_bytes("stream_error")


def test_v1_message_writer_hello_request_matches_golden() -> None:
    header = untag(CASES["v1_hello_request"]["frames"][0]["value"])
    out = io.BytesIO()
    _writer(out, v2=False).write_request(0, "hello", header["args"])
    assert out.getvalue() == _golden_bytes("v1_hello_request")


def test_legacy_string_error_golden_reads_as_remote_error() -> None:
    data = _golden_bytes("v1_legacy_error_response")
    message = MessageReader(FrameReader(io.BytesIO(data), v2=False)).read()
    assert message is not None and message.v1 and not message.success
    assert message.error == {"type": headers.REMOTE_ERROR, "message": "Unknown command: hello"}


# -- error cases -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_golden_error_case_fails_with_exactly_the_named_error(name: str) -> None:
    case = ERRORS[name]
    expected = ERRORS_BY_NAME[case["error"]]
    data = (FRAMES_DIR / case["file"]).read_bytes()
    limit = case.get("max_frame_bytes", DEFAULT_MAX_FRAME_BYTES)
    frames = FrameReader(io.BytesIO(data), max_frame_bytes=limit)
    with pytest.raises(Exception) as caught:
        if case["stage"] == "frame":
            list(frames)
        elif case["stage"] == "payload":
            frame = frames.read_frame()
            assert frame is not None and frames.read_frame() is None
            decode_frame(frame, SpillDir(FRAMES_DIR))
        else:
            MessageReader(frames, spill=SpillDir(FRAMES_DIR)).read()
    assert type(caught.value) is expected, f"{name}: {caught.value!r}"
    assert caught.value.name == case["error"]
    if "first_bytes" in case:
        assert case["first_bytes"] in str(caught.value)
