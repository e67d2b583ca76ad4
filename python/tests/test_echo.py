"""The echo worker as a real process: every body format, REF, streams, errors, exits."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dspex_worker.codec import json_codec, msgpack_codec
from dspex_worker.protocol.frames import FrameType, encode_frame
from dspex_worker.protocol.message import Message
from dspex_worker.protocol.ref import RefInfo
from dspex_testing.client import PYTHON_ROOT, WorkerProcess

TS = "2026-11-26T15:09:42.123Z"

ROWS = [
    {"id": 1, "text": "héllo 😀", "score": 0.5, "ok": True, "tags": ["a"], "none": None},
    {"id": 2, "text": None, "score": math.nan, "ok": False, "tags": [], "none": None},
]


@pytest.fixture(scope="module")
def spill_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spill")


@pytest.fixture(scope="module")
def worker(spill_dir: Path) -> Iterator[WorkerProcess]:
    with WorkerProcess() as process:
        process.hello(spill_dir=spill_dir)
        yield process


def same_rows(actual: list[dict[str, object]], expected: list[dict[str, object]]) -> bool:
    def key(value: object) -> object:
        return "nan" if isinstance(value, float) and math.isnan(value) else value

    return [{k: key(v) for k, v in r.items()} for r in actual] == [
        {k: key(v) for k, v in r.items()} for r in expected
    ]


def raw_request(
    command: str, bodies: list[tuple[str, str, FrameType, bytes]], request_id: int
) -> bytes:
    header = {
        "id": request_id,
        "command": command,
        "args": {},
        "timestamp": TS,
        "body": [{"name": n, "format": f} for n, f, _, _ in bodies],
    }
    data = encode_frame(FrameType.JSON, json_codec.encode(header))
    return data + b"".join(encode_frame(t, p) for _, _, t, p in bodies)


def test_ping_answers_ok(worker: WorkerProcess) -> None:
    assert worker.call("ping").result == {"ok": True}


def test_echo_returns_args_and_small_json_body_inline(worker: WorkerProcess) -> None:
    inputs = [{"q": "a"}, {"q": "é\u2028"}]
    response = worker.call("echo", {"n": 2}, {"inputs": inputs})
    assert response.result == {"n": 2, "inputs": inputs} and "body" not in response.header


@pytest.mark.parametrize("fmt", ["msgpack", "arrow"])
def test_echo_reencodes_record_bodies_in_their_own_format(worker: WorkerProcess, fmt: str) -> None:
    response = worker.call("echo", {"k": "v"}, {"inputs": ROWS}, formats=fmt)
    assert response.success, response.error
    assert response.result == {"k": "v"}
    assert response.header["body"] == [{"name": "inputs", "format": fmt}]
    assert same_rows(response.body("inputs"), ROWS)


def test_echo_keeps_arrow_column_types_of_all_null_columns(worker: WorkerProcess) -> None:
    rows = [{"a": 1, "s": None}, {"a": 2, "s": None}]
    from dspex_worker.codec import arrow_codec

    schema = [{"name": "a", "type": "int64"}, {"name": "s", "type": "utf8"}]
    response = worker.call("echo", {}, {"t": arrow_codec.records_to_batch(rows, schema)})
    assert response.body_schema("t") == schema


@pytest.mark.parametrize("dtype", ["<f4", "<f8", "<i4", "<i8"])
def test_echo_reencodes_numpy_bodies(worker: WorkerProcess, dtype: str) -> None:
    array = (np.arange(12) - 3).astype(dtype).reshape(3, 4)
    response = worker.call("echo", {}, {"vectors": array})
    assert response.header["body"] == [{"name": "vectors", "format": "numpy"}]
    echoed = response.body("vectors")
    assert echoed.dtype == array.dtype and (echoed == array).all()


def test_echo_of_several_bodies_keeps_their_order_and_formats(worker: WorkerProcess) -> None:
    response = worker.call(
        "echo",
        {},
        {"m": {"blob": b"\x00\xff", "x": math.inf}, "v": np.zeros((0, 384), "<f4"), "e": []},
        formats={"e": "msgpack"},
    )
    assert [b["format"] for b in response.header["body"]] == ["msgpack", "numpy", "msgpack"]
    assert response.body("m") == {"blob": b"\x00\xff", "x": math.inf}
    assert response.body("v").shape == (0, 384) and response.body("e") == []


@pytest.mark.parametrize("fmt", ["ref:msgpack", "ref:arrow", "ref:numpy", "ref:json"])
def test_ref_body_comes_back_as_a_new_ref_file_written_by_the_worker(
    worker: WorkerProcess, spill_dir: Path, fmt: str
) -> None:
    value: object = [{"i": i} for i in range(50)]
    if fmt == "ref:numpy":
        value = np.arange(20, dtype="<f8").reshape(4, 5)
    response = worker.call("echo", {}, {"big": value}, formats=fmt)
    assert response.success, response.error
    assert response.body_is_ref("big")
    ref = response.bodies["big"].ref
    assert ref.path.startswith(f"w{worker.process.pid}-") and ref.path.endswith(fmt[4:])
    echoed = response.body("big")
    if fmt == "ref:numpy":
        assert (echoed == value).all()
    else:
        assert echoed == value
    worker.release(response)
    # The client deleted its request file after the answer and the response file after reading.
    assert not any(spill_dir.iterdir())


def test_json_body_frame_is_echoed_inline_in_the_result(worker: WorkerProcess) -> None:
    worker.write_raw(raw_request("echo", [("j", "json", FrameType.JSON, b'[1,"x"]')], 900))
    response = worker.read()
    assert response.id == 900 and response.result == {"j": [1, "x"]}


def test_stream_echo_reports_every_index_once_with_failures(worker: WorkerProcess) -> None:
    inputs = [{"q": i, "fail": i in (2, 3)} for i in range(7)]
    events = worker.stream("echo_stream", {"chunk_size": 3}, {"inputs": inputs}, formats="msgpack")
    kinds = [e.frame_type for e in events]
    assert kinds == [FrameType.STREAM_START] + [FrameType.STREAM_CHUNK] * 3 + [FrameType.STREAM_END]
    assert events[0].header == {"id": events[0].id, "n": 7}
    chunk = events[1]
    assert chunk.header["indexes"] == [0, 1]
    assert chunk.header["failed"] == [
        {"index": 2, "type": "ValueError", "message": "record 2 asked to fail"}
    ]
    assert chunk.header["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0}
    assert chunk.body_format("outputs") == "msgpack" and chunk.body("outputs") == inputs[:2]
    outputs = [row for e in events[1:-1] for row in e.body("outputs")]
    assert outputs == [r for r in inputs if not r["fail"]]
    end = events[-1].header
    assert end == {
        "id": events[0].id,
        "ok": 5,
        "failed": 2,
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0},
    }


@pytest.mark.parametrize("fmt", ["json", "arrow", "ref:msgpack"])
def test_stream_echo_answers_in_the_inputs_content_format(worker: WorkerProcess, fmt: str) -> None:
    inputs = [{"q": f"x{i}", "fail": None} for i in range(4)]
    events = worker.stream("echo_stream", {"chunk_size": 2}, {"inputs": inputs}, formats=fmt)
    content = fmt.removeprefix("ref:")
    chunks = events[1:-1]
    assert [c.body_format("outputs") for c in chunks] == [content, content]
    assert not any(c.body_is_ref("outputs") for c in chunks)
    assert [row for c in chunks for row in c.body("outputs")] == inputs


def test_stream_with_zero_inputs_is_start_then_end(worker: WorkerProcess) -> None:
    events = worker.stream("echo_stream", {"chunk_size": 2}, {"inputs": []})
    assert [e.frame_type for e in events] == [FrameType.STREAM_START, FrameType.STREAM_END]


def test_stream_that_breaks_ends_with_stream_error(worker: WorkerProcess) -> None:
    inputs = [{"q": i} for i in range(5)]
    args = {"chunk_size": 2, "break_after_chunks": 1}
    events = worker.stream("echo_stream", args, {"inputs": inputs})
    assert [e.frame_type for e in events] == [
        FrameType.STREAM_START, FrameType.STREAM_CHUNK, FrameType.STREAM_ERROR
    ]
    error = events[-1].header["error"]
    assert error["type"] == "RuntimeError" and "break after 1 chunks" in error["message"]


def test_bad_stream_args_fail_before_the_stream_starts(worker: WorkerProcess) -> None:
    events = worker.stream("echo_stream", {"chunk_size": 0}, {"inputs": [{"q": 1}]})
    assert len(events) == 1 and events[0].is_response and events[0].error["type"] == "ValueError"


def test_unknown_command_is_an_unknown_command_error(worker: WorkerProcess) -> None:
    response = worker.call("predict_everything")
    assert response.error == {
        "type": "UnknownCommand",
        "message": "Unknown command: predict_everything",
    }


def test_corrupted_body_fails_that_request_and_the_worker_keeps_serving(
    worker: WorkerProcess,
) -> None:
    bad_map = b"\x81\x01\x02"
    worker.write_raw(raw_request("echo", [("x", "msgpack", FrameType.MSGPACK, bad_map)], 901))
    response = worker.read()
    assert response.id == 901 and response.error["type"] == "CorruptedPayload"
    assert worker.call("ping").result == {"ok": True}


@pytest.mark.parametrize(
    ("ref", "error"),
    [
        (RefInfo("nope.msgpack", 0, 4, "msgpack"), "RefNotFound"),
        (RefInfo("../etc/passwd", 0, 4, "msgpack"), "RefOutsideSpillDir"),
        (RefInfo("x", -4, 4, "msgpack"), "RefOutOfRange"),
    ],
)
def test_bad_ref_fails_that_request_and_the_worker_keeps_serving(
    worker: WorkerProcess, ref: RefInfo, error: str
) -> None:
    worker.write_raw(raw_request("echo", [("r", "msgpack", FrameType.REF, ref.encode())], 902))
    response = worker.read()
    assert response.id == 902 and response.error["type"] == error
    assert worker.call("ping").success


def _fatal(data: bytes) -> tuple[int, Message | None, str]:
    with WorkerProcess() as process:
        process.hello()
        process.write_raw(data)
        answer = process.read()
        status = process.wait()
        return status, answer, process.stderr()


def test_garbage_makes_the_worker_answer_id_0_and_exit_with_an_error() -> None:
    status, answer, stderr = _fatal(b"HTTP/1.1 200 OK\r\n\r\n")
    assert status == 2
    assert answer.id == 0 and answer.error["type"] == "FrameTooLong"
    assert "48 54 54 50" in answer.error["message"] and "|HTTP/1.1 200 OK" in stderr


def test_unknown_frame_type_makes_the_worker_exit_with_an_error() -> None:
    status, answer, _ = _fatal(b"\x00\x00\x00\x02\x7f{}")
    assert status == 2 and answer.error["type"] == "UnknownFrameType"


def test_body_frame_where_a_header_belongs_makes_the_worker_exit() -> None:
    status, answer, _ = _fatal(encode_frame(FrameType.MSGPACK, msgpack_codec.encode([1])))
    assert status == 2 and answer.error["type"] == "CorruptedPayload"
    status, answer, _ = _fatal(encode_frame(FrameType.NUMPY, b""))
    assert status == 2 and answer.error["type"] == "UnexpectedFrame"


def test_shutdown_answers_then_exits_0() -> None:
    with WorkerProcess() as process:
        process.hello()
        assert process.call("shutdown").result == {"ok": True}
        assert process.wait() == 0 and process.read() is None


def test_eof_exits_0() -> None:
    with WorkerProcess() as process:
        process.close_input()
        assert process.wait() == 0


def test_claimed_stdout_sends_prints_to_stderr_not_to_the_channel() -> None:
    code = (
        "import os; from dspex_worker.stdio import claim_stdio; i, o = claim_stdio(); "
        "print('noise'); os.write(1, b'c-level noise\\n'); o.write(b'frame'); o.flush()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PYTHON_ROOT,
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(PYTHON_ROOT)},
    )
    assert out.stdout == b"frame"
    assert b"noise" in out.stderr and b"c-level noise" in out.stderr
