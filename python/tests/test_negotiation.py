"""The hello handshake: in process, and against real echo / legacy bridge processes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dspex_worker import __version__
from dspex_worker.codec import json_codec
from dspex_worker.protocol.errors import CorruptedPayloadError
from dspex_worker.protocol.frames import FrameReader, FrameType, FrameWriter, encode_v1_frame
from dspex_worker.protocol.reader import MessageReader
from dspex_worker.protocol.negotiation import serve_hello, versions
from dspex_worker.protocol.settings import ProtocolSettings
from dspex_testing.client import PYTHON_ROOT, WorkerProcess

TS = "2026-11-26T15:09:42.123Z"


def hello_frame(args: dict[str, object], command: str = "hello") -> bytes:
    return encode_v1_frame(
        json_codec.encode({"id": 0, "command": command, "args": args, "timestamp": TS})
    )


def serve(data: bytes, **kwargs: object):
    out = io.BytesIO()
    frames_in, frames_out = FrameReader(io.BytesIO(data)), FrameWriter(out)
    session = serve_hello(frames_in, frames_out, handlers=["ping"], **kwargs)
    answer = MessageReader(FrameReader(io.BytesIO(out.getvalue()), v2=False)).read()
    return session, answer, frames_in, frames_out


def test_hello_offering_v2_is_answered_v1_framed_then_both_sides_switch(tmp_path: Path) -> None:
    session, answer, frames_in, frames_out = serve(
        hello_frame({"protocols": ["v2", "v1"], "spill_dir": str(tmp_path)})
    )
    assert answer.v1 and answer.id == 0 and answer.success
    result = answer.result
    assert list(result) == ["protocol", "worker_version", "versions", "pid", "capabilities"]
    assert result["protocol"] == "v2" and result["worker_version"] == __version__
    assert result["pid"] == os.getpid()
    assert result["capabilities"] == {
        "formats": ["json", "msgpack", "arrow", "numpy", "ref"],
        "streaming": True,
        "handlers": ["ping"],
    }
    assert session.v2 and frames_in.v2 and frames_out.v2
    assert session.spill is not None and session.spill.real_path == os.path.realpath(tmp_path)


def test_hello_without_spill_dir_offers_no_ref() -> None:
    session, answer, *_ = serve(hello_frame({"protocols": ["v2"]}))
    assert "ref" not in answer.result["capabilities"]["formats"] and session.spill is None


def test_hello_with_a_missing_spill_dir_offers_no_ref(tmp_path: Path) -> None:
    _, answer, *_ = serve(hello_frame({"protocols": ["v2"], "spill_dir": str(tmp_path / "gone")}))
    assert "ref" not in answer.result["capabilities"]["formats"]


def test_hello_args_override_limits_and_thresholds() -> None:
    session, *_, frames_in, frames_out = serve(
        hello_frame({"protocols": ["v2"], "max_frame_bytes": 4096, "json_max_records": 4})
    )
    assert session.settings == ProtocolSettings(max_frame_bytes=4096, json_max_records=4)
    assert frames_in.max_frame_bytes == frames_out.max_frame_bytes == 4096


def test_hello_with_a_bad_setting_fails_and_stays_v1() -> None:
    session, answer, *_ = serve(hello_frame({"protocols": ["v2"], "max_frame_bytes": "big"}))
    assert not answer.success and answer.error["type"] == "ValueError"
    assert "max_frame_bytes" in answer.error["message"] and not session.v2


def test_hello_offering_only_v1_is_answered_v1_and_stays_v1() -> None:
    session, answer, frames_in, frames_out = serve(hello_frame({"protocols": ["v1"]}))
    assert answer.result["protocol"] == "v1"
    assert answer.result["capabilities"]["formats"] == ["json"]
    assert not session.v2 and not frames_in.v2 and not frames_out.v2


def test_first_frame_that_is_not_hello_keeps_v1_and_is_kept_for_an_answer() -> None:
    out = io.BytesIO()
    session = serve_hello(FrameReader(io.BytesIO(hello_frame({}, "ping"))), FrameWriter(out))
    assert out.getvalue() == b"" and not session.v2
    assert session.pending is not None and session.pending.command == "ping"


def test_eof_before_hello_gives_no_session() -> None:
    assert serve_hello(FrameReader(io.BytesIO(b"")), FrameWriter(io.BytesIO())) is None


def test_first_frame_that_is_not_json_is_corrupted_payload() -> None:
    with pytest.raises(CorruptedPayloadError):
        frames_in = FrameReader(io.BytesIO(encode_v1_frame(b"\x81\xa1a\x01")))
        serve_hello(frames_in, FrameWriter(io.BytesIO()))


def test_versions_are_read_without_importing_numpy_or_pyarrow() -> None:
    code = (
        "import sys; from dspex_worker.protocol.negotiation import versions; v = versions(); "
        "assert 'numpy' not in sys.modules and 'pyarrow' not in sys.modules, sys.modules.keys(); "
        "print(sorted(v))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PYTHON_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "['msgpack', 'numpy', 'pyarrow', 'python']"
    assert versions()["numpy"] is not None


# -- real processes ---------------------------------------------------------------


def test_echo_worker_process_negotiates_v2_and_answers_ping(tmp_path: Path) -> None:
    with WorkerProcess() as worker:
        session = worker.hello(spill_dir=tmp_path)
        assert session.v2 and session.hello["result"]["pid"] == worker.process.pid
        assert session.hello["result"]["capabilities"]["handlers"] == [
            "ping", "echo", "echo_stream", "shutdown"
        ]
        ping = worker.call("ping")
        assert ping.frame_type is FrameType.JSON and ping.result == {"ok": True}
        worker.close_input()
        assert worker.wait() == 0


def test_legacy_bridge_refuses_hello_with_a_string_and_the_client_stays_v1() -> None:
    with WorkerProcess("dspex_testing.legacy_bridge") as bridge:
        session = bridge.hello(spill_dir="/tmp")
        assert not session.v2 and session.spill is None
        assert session.hello["error"] == "Unknown command: hello"
        ping = bridge.call("ping")
        assert ping.v1 and ping.success and ping.result == {"status": "ok"}
        assert list(ping.header) == ["id", "success", "result", "timestamp"]
        other = bridge.call("predict", {"x": 1})
        assert other.error == {"type": "RemoteError", "message": "Unknown command: predict"}
        bridge.close_input()
        assert bridge.wait() == 0


def test_echo_worker_serves_a_legacy_client_that_never_says_hello_in_v1() -> None:
    with WorkerProcess() as worker:
        ping = worker.call("ping")
        assert ping.v1 and ping.result == {"ok": True}
        echo = worker.call("echo", {"inputs": [{"q": "é"}], "n": 1})
        assert echo.v1 and echo.result == {"inputs": [{"q": "é"}], "n": 1}
        stream = worker.call("echo_stream", {"inputs": []})
        assert stream.error["type"] == "UnknownCommand"
        worker.close_input()
        assert worker.wait() == 0


def test_echo_worker_stays_v1_for_a_hello_offering_only_v1() -> None:
    with WorkerProcess() as worker:
        session = worker.hello(protocols=["v1"])
        assert not session.v2 and session.hello["result"]["protocol"] == "v1"
        assert worker.call("ping").v1
