"""Messages in process: writer choices, reader assembly, lazy body errors, V1 mode."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dspex_worker.codec import json_codec, msgpack_codec
from dspex_worker.protocol.errors import (
    CorruptedPayloadError,
    EncodingError,
    RefNotFoundError,
    RefOutsideSpillDirError,
    UnexpectedFrameError,
)
from dspex_worker.protocol.frames import FrameReader, FrameType, FrameWriter, encode_frame
from dspex_worker.protocol.headers import utc_timestamp
from dspex_worker.protocol.reader import MessageReader
from dspex_worker.protocol.writer import MessageWriter
from dspex_worker.protocol.ref import RefInfo, SpillDir
from dspex_worker.protocol.settings import ProtocolSettings

TS = "2026-11-26T15:09:42.123Z"


def header_map(command: str, body: object) -> dict[str, object]:
    return {"id": 1, "command": command, "args": {}, "timestamp": TS, "body": body}


def pair(
    *, v2: bool = True, spill: SpillDir | None = None, settings: ProtocolSettings | None = None
) -> tuple[MessageWriter, io.BytesIO, Callable[[], MessageReader]]:
    out = io.BytesIO()
    writer = MessageWriter(
        FrameWriter(out, v2=v2),
        settings=settings or ProtocolSettings(),
        spill=spill,
        clock=lambda: TS,
    )

    def reader() -> MessageReader:
        return MessageReader(FrameReader(io.BytesIO(out.getvalue()), v2=v2), spill=spill)

    return writer, out, reader


def test_timestamp_is_utc_with_milliseconds() -> None:
    import datetime as dt

    moment = dt.datetime(2026, 11, 26, 16, 9, 42, 123999, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert utc_timestamp(moment) == "2026-11-26T15:09:42.123Z"


def test_request_header_keys_come_in_spec_order() -> None:
    writer, out, _ = pair()
    writer.write_request(1, "predict", {"n": 2}, {"inputs": [[1, 2]]}, formats="msgpack")
    header = json_codec.decode(FrameReader(io.BytesIO(out.getvalue())).read_frame().payload)
    assert list(header) == ["id", "command", "args", "timestamp", "body"]


def test_small_json_body_goes_inline_after_the_args() -> None:
    writer, _, reader = pair()
    writer.write_request(1, "predict", {"handle": "h"}, {"inputs": [{"q": "a"}]})
    message = reader().read()
    assert message.header["args"] == {"handle": "h", "inputs": [{"q": "a"}]}
    assert "body" not in message.header
    assert message.body("inputs") == [{"q": "a"}] and message.body_format("inputs") == "json"


def test_bodies_of_every_format_round_trip() -> None:
    writer, _, reader = pair()
    vectors = np.arange(6, dtype="<f8").reshape(3, 2)
    rows = [{"i": i, "s": str(i)} for i in range(3)]
    writer.write_response(
        5,
        {"ok": 3},
        {"a": rows, "b": rows, "c": vectors, "d": rows},
        formats={"a": "msgpack", "b": "arrow", "d": "json"},
    )
    message = reader().read()
    assert message.is_response and message.success and message.result == {"ok": 3, "d": rows}
    assert [b["format"] for b in message.header["body"]] == ["msgpack", "arrow", "numpy"]
    assert message.body("a") == rows and message.body("b") == rows and message.body("d") == rows
    assert (message.body("c") == vectors).all()
    assert message.body_table("b").num_rows == 3


def test_header_with_nan_or_bytes_goes_as_msgpack() -> None:
    writer, _, reader = pair()
    writer.write_request(1, "run", {"x": math.nan, "salt": b"\x00"})
    message = reader().read()
    assert message.frame_type is FrameType.MSGPACK
    assert math.isnan(message.args["x"]) and message.args["salt"] == b"\x00"


def test_forced_json_body_with_nan_names_the_args_path() -> None:
    writer, out, _ = pair()
    with pytest.raises(EncodingError, match=r"^args\.inputs\[0\]\.score"):
        writer.write_request(1, "predict", {}, {"inputs": [{"score": math.nan}]}, formats="json")
    assert out.getvalue() == b""


def test_body_name_colliding_with_an_args_key_is_refused() -> None:
    writer, _, _ = pair()
    with pytest.raises(ValueError, match="collides with a args key"):
        writer.write_request(1, "predict", {"inputs": 1}, {"inputs": [1]})


def test_json_body_of_a_non_map_result_goes_as_a_json_frame() -> None:
    writer, _, reader = pair()
    writer.write_response(2, [1, 2], {"extra": {"k": "v"}})
    message = reader().read()
    assert message.header["body"] == [{"name": "extra", "format": "json"}]
    assert message.body("extra") == {"k": "v"}


def test_error_response_from_an_exception_carries_type_message_traceback() -> None:
    writer, _, reader = pair()
    try:
        raise KeyError("missing")
    except KeyError as exc:
        writer.write_error(3, exc)
    message = reader().read()
    assert message.error["type"] == "KeyError" and "missing" in message.error["message"]
    assert "Traceback" in message.error["traceback"]


def test_ref_body_is_written_to_the_spill_dir_and_resolved_on_read(tmp_path: Path) -> None:
    spill = SpillDir(tmp_path, tag="j99")
    writer, _, reader = pair(spill=spill)
    refs = writer.write_request(1, "embed", {}, {"vectors": np.ones((2, 2), "<f4")}, formats="ref")
    assert [r.path for r in refs] == ["j99-1.numpy"]
    message = reader().read()
    assert message.body_is_ref("vectors") and message.body("vectors").sum() == 4
    writer.discard(refs)
    assert list(tmp_path.iterdir()) == []


def test_ref_files_are_removed_when_the_header_cannot_be_encoded(tmp_path: Path) -> None:
    writer, _, _ = pair(spill=SpillDir(tmp_path))
    with pytest.raises(EncodingError):
        writer.write_request(1, "x", {"bad": object()}, {"v": [1]}, formats="ref")
    assert list(tmp_path.iterdir()) == []


def test_corrupted_body_fails_only_when_accessed() -> None:
    header = json_codec.encode(
        {"id": 4, "command": "echo", "args": {}, "timestamp": TS, "body": [
            {"name": "bad", "format": "msgpack"}, {"name": "good", "format": "msgpack"}]}
    )
    data = (
        encode_frame(FrameType.JSON, header)
        + encode_frame(FrameType.MSGPACK, b"\xc1")
        + encode_frame(FrameType.MSGPACK, msgpack_codec.encode([1]))
    )
    message = MessageReader(FrameReader(io.BytesIO(data))).read()
    assert message.id == 4 and message.body("good") == [1]
    with pytest.raises(CorruptedPayloadError):
        message.body("bad")


def test_ref_body_without_a_spill_dir_fails_when_accessed() -> None:
    header = json_codec.encode(
        header_map("echo", [{"name": "r", "format": "json"}])
    )
    data = encode_frame(FrameType.JSON, header) + encode_frame(
        FrameType.REF, RefInfo("x.json", 0, 2, "json").encode()
    )
    message = MessageReader(FrameReader(io.BytesIO(data))).read()
    with pytest.raises(RefOutsideSpillDirError, match="no spill directory"):
        message.body("r")


def test_ref_body_to_a_missing_file_fails_when_accessed(tmp_path: Path) -> None:
    header = json_codec.encode(
        header_map("echo", [{"name": "r", "format": "json"}])
    )
    data = encode_frame(FrameType.JSON, header) + encode_frame(
        FrameType.REF, RefInfo("gone.json", 0, 2, "json").encode()
    )
    message = MessageReader(FrameReader(io.BytesIO(data)), spill=SpillDir(tmp_path)).read()
    with pytest.raises(RefNotFoundError):
        message.body("r")


def test_stream_frame_inside_a_message_is_unexpected() -> None:
    header = json_codec.encode(
        header_map("echo", [{"name": "a", "format": "msgpack"}])
    )
    end = encode_frame(FrameType.STREAM_END, b"\x81\xa2id\x01")
    data = encode_frame(FrameType.JSON, header) + end
    with pytest.raises(UnexpectedFrameError, match="listed as msgpack but a STREAM_END"):
        MessageReader(FrameReader(io.BytesIO(data))).read()


@pytest.mark.parametrize(
    "body", [{"name": "a"}, [{"name": 1, "format": "json"}], [{"name": "a", "format": "xml"}],
             [{"name": "a", "format": "json"}, {"name": "a", "format": "json"}]]
)
def test_malformed_body_list_is_corrupted_payload(body: object) -> None:
    header = json_codec.encode(header_map("echo", body))
    with pytest.raises(CorruptedPayloadError):
        MessageReader(FrameReader(io.BytesIO(encode_frame(FrameType.JSON, header)))).read()


def test_header_without_integer_id_is_corrupted_payload() -> None:
    data = encode_frame(FrameType.JSON, b'{"command":"ping"}')
    with pytest.raises(CorruptedPayloadError, match="no integer id"):
        MessageReader(FrameReader(io.BytesIO(data))).read()


def test_v1_writer_inlines_every_body_as_plain_json() -> None:
    writer, _, reader = pair(v2=False)
    vectors = np.array([[1.5, 2.0]], "<f4")
    writer.write_request(1, "embed", {}, {"vectors": vectors, "texts": ["a"] * 50})
    message = reader().read()
    assert message.v1 and message.args == {"vectors": [[1.5, 2.0]], "texts": ["a"] * 50}


def test_v1_writer_refuses_binary_formats_and_streams() -> None:
    writer, _, _ = pair(v2=False)
    with pytest.raises(ValueError, match="JSON only"):
        writer.write_request(1, "x", {}, {"a": [1]}, formats="msgpack")
    with pytest.raises(ValueError, match="V2"):
        writer.write_stream_start(1, 1)
    with pytest.raises(EncodingError):
        writer.write_request(1, "x", {"nan": math.nan})


def test_stream_chunk_carries_its_listed_bodies() -> None:
    writer, _, reader = pair()
    writer.write_stream_start(9, 2)
    writer.write_stream_chunk(9, [0, 1], [], None, {"outputs": [{"a": 1}, {"a": 2}]})
    writer.write_stream_end(9, 2, 0, {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0})
    messages = reader()
    start, chunk, end = messages.read(), messages.read(), messages.read()
    assert start.kind is FrameType.STREAM_START and start.header == {"id": 9, "n": 2}
    assert list(chunk.header) == ["id", "indexes", "failed", "usage", "body"]
    assert chunk.body("outputs") == [{"a": 1}, {"a": 2}] and chunk.body_format("outputs") == "json"
    assert end.kind is FrameType.STREAM_END and messages.read() is None
