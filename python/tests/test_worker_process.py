"""``python -m dspex_worker`` as a real process: hello, concurrency, errors, crashes, exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dspex_worker import exit_codes
from dspex_worker.protocol.errors import FrameTooLongError
from dspex_worker.protocol.frames import FrameType
from dspex_worker.protocol.message import Message
from dspex_testing.client import PYTHON_ROOT, WorkerProcess

TEST_HANDLERS = {"handler_modules": ["dspex_testing.handlers"]}


def start(args: dict[str, Any] | None = None, **kwargs: Any) -> WorkerProcess:
    """A worker that has said hello with the test handlers (plus ``args``)."""
    process = WorkerProcess("dspex_worker", **kwargs)
    process.hello(args={**TEST_HANDLERS, **(args or {})})
    return process


@pytest.fixture(scope="module")
def worker() -> Iterator[WorkerProcess]:
    with start({"worker_id": 7, "threads": 2}) as process:
        yield process


def read_until(process: WorkerProcess, request_id: int) -> tuple[Message, list[Message]]:
    """Read messages until the response to ``request_id``; returns it and what came before."""
    before: list[Message] = []
    while True:
        message = process.read()
        assert message is not None, process.stderr()
        if message.id == request_id and not message.is_stream:
            return message, before
        before.append(message)


def wait_for(predicate: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie nobody reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


# -- hello --------------------------------------------------------------------------


def test_hello_answers_with_versions_and_without_importing_numpy_or_pyarrow() -> None:
    # A fast hello is checked by what it does not import, not by the clock (flaky under load).
    with WorkerProcess("dspex_worker") as process:
        session = process.hello(args=TEST_HANDLERS)
        result = session.hello["result"]
        assert session.v2
        versions = result["versions"]
        assert versions["numpy"] and versions["pyarrow"] and versions["msgpack"]
        assert versions["python"] == ".".join(map(str, sys.version_info[:3]))
        assert {"dspy", "torch", "sentence-transformers"} <= set(versions)
        heavy = ["numpy", "pyarrow", "torch", "dspy", "litellm", "tokenizers"]
        loaded = process.call("loaded_modules", {"names": heavy})
        assert loaded.result == dict.fromkeys(heavy, False)


def test_hello_describes_the_worker(worker: WorkerProcess) -> None:
    result = worker.session.hello["result"]
    assert result["pid"] == worker.process.pid and result["worker_id"] == 7
    assert result["request_threads"] == 4 and result["threads"] == 2
    capabilities = result["capabilities"]
    assert capabilities["commands"] == ["hello", "ping", "stats", "setup", "run", "shutdown"]
    assert {"echo", "echo_stream", "sleep", "crash", "raise", "slow_stream"} <= set(
        capabilities["handlers"]
    )
    assert capabilities["setup_kinds"] == ["predict", "embed", "optimize", "test_value"]
    assert capabilities["streaming"] is True


def test_without_handler_modules_only_the_production_handlers_are_there() -> None:
    with WorkerProcess("dspex_worker") as process:
        session = process.hello()
        capabilities = session.hello["result"]["capabilities"]
        assert capabilities["handlers"] == ["predict", "embed", "optimize"]
        assert capabilities["setup_kinds"] == ["predict", "embed", "optimize"]
        assert process.call("sleep", {"seconds": 0}).error["type"] == "UnknownCommand"
        assert process.call("ping").result["ok"] is True


def test_a_handler_module_that_fails_to_import_refuses_hello_and_exits_3() -> None:
    with WorkerProcess("dspex_worker") as process:
        session = process.hello(args={"handler_modules": ["no_such_module_xyz"]})
        error = session.hello["error"]
        assert error["type"] == "ModuleNotFoundError" and "no_such_module_xyz" in error["message"]
        assert "Traceback" in error["traceback"]
        assert process.wait() == exit_codes.STARTUP_FAILED
        assert "no_such_module_xyz" in process.stderr()


def test_bad_worker_hello_args_are_refused_naming_the_key() -> None:
    with WorkerProcess("dspex_worker") as process:
        session = process.hello(args={"request_threads": 0})
        assert session.hello["error"]["type"] == "ValueError"
        assert "request_threads" in session.hello["error"]["message"]
        assert process.wait() == exit_codes.STARTUP_FAILED


def test_threads_from_hello_set_the_native_thread_variables(worker: WorkerProcess) -> None:
    names = ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"]
    assert worker.call("env", {"names": names}).result == dict.fromkeys(names, "2")


def test_a_second_hello_is_an_unexpected_command(worker: WorkerProcess) -> None:
    error = worker.call("hello", {"protocols": ["v2"]}).error
    assert error["type"] == "UnexpectedCommand" and "already negotiated" in error["message"]


# -- concurrency ----------------------------------------------------------------------


def test_ping_is_answered_while_a_handler_runs(worker: WorkerProcess) -> None:
    sleep_id = worker.send("sleep", {"seconds": 0.5})
    ping = worker.call("ping")
    # in_flight 1: the ping was answered while the sleep still ran (no clock needed).
    assert ping.result == {"ok": True, "pid": worker.process.pid, "in_flight": 1}
    response, _ = read_until(worker, sleep_id)
    assert response.result == {"slept": 0.5}


def test_handlers_run_concurrently_and_answers_come_in_completion_order(
    worker: WorkerProcess,
) -> None:
    slow = worker.send("sleep", {"seconds": 0.4})
    fast = worker.send("run", {"handler": "sleep", "seconds": 0.05})
    first, second = worker.read(), worker.read()
    # The later, shorter request answered first: the two ran at the same time.
    assert [first.id, second.id] == [fast, slow]


def test_stream_chunks_interleave_with_other_answers(worker: WorkerProcess) -> None:
    stream_id = worker.send("slow_stream", {"n": 4, "delay_s": 0.05})
    ping_id = worker.send("ping")
    events: list[Message] = []
    while not events or events[-1].frame_type is not FrameType.STREAM_END:
        events.append(worker.read())
    ping = [e for e in events if e.id == ping_id]
    stream = [e for e in events if e.id == stream_id]
    assert len(ping) == 1 and ping[0].result["ok"] is True
    assert [e.frame_type for e in stream] == [FrameType.STREAM_START] + [
        FrameType.STREAM_CHUNK
    ] * 4 + [FrameType.STREAM_END]
    assert [e.body("outputs") for e in stream[1:-1]] == [[{"index": i}] for i in range(4)]
    assert stream[-1].header["ok"] == 4 and stream[-1].header["failed"] == 0
    # The ping did not wait for the stream.
    assert events.index(ping[0]) < len(events) - 1


# -- stdout ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["print", "fd1"])
def test_writes_to_stdout_land_on_stderr_not_on_the_channel(mode: str) -> None:
    with start() as process:
        text = f"noise via {mode} \u00e9"
        response = process.call("print_stdout", {"text": text, "mode": mode})
        assert response.result == {"printed": text, "mode": mode}
        assert process.call("ping").result["ok"] is True
        process.close_input()
        assert process.wait() == 0
        assert text in process.stderr()


# -- errors ---------------------------------------------------------------------------


def test_an_exception_becomes_an_error_response_and_the_worker_goes_on(
    worker: WorkerProcess,
) -> None:
    error = worker.call("raise", {"type": "ValueError", "message": "bad input"}).error
    assert error["type"] == "ValueError" and error["message"] == "bad input"
    assert "Traceback" in error["traceback"] and "raise exc_type(message)" in error["traceback"]
    custom = worker.call("run", {"handler": "raise", "type": "RateLimitError", "message": "slow"})
    assert custom.error["type"] == "RateLimitError"
    assert worker.call("sleep", {"seconds": 0}).result == {"slept": 0.0}


def test_unknown_command_handler_setup_kind_and_handle(worker: WorkerProcess) -> None:
    assert worker.call("frobnicate").error == {
        "type": "UnknownCommand",
        "message": "Unknown command: frobnicate",
    }
    unknown = worker.call("run", {"handler": "frobnicate"}).error
    assert unknown["type"] == "UnknownHandler" and "'frobnicate'" in unknown["message"]
    assert "sleep" in unknown["message"] and "traceback" not in unknown
    missing = worker.call("run", {}).error
    assert missing["type"] == "UnknownHandler"
    kind = worker.call("setup", {"kind": "nope"}).error
    assert kind["type"] == "UnknownHandler" and "test_value" in kind["message"]
    handle = worker.call("get_value", {"handle": "test_value-999"}).error
    assert handle["type"] == "UnknownHandle" and "test_value-999" in handle["message"]
    assert worker.call("get_value", {}).error["type"] == "UnknownHandle"


def test_setup_loads_once_and_later_requests_use_the_handle(worker: WorkerProcess) -> None:
    setup = worker.call("setup", {"kind": "test_value", "value": {"model": "m"}})
    assert setup.result["loaded"] is True
    handle = setup.result["handle"]
    assert list(setup.result) == ["handle", "loaded"] and handle.startswith("test_value-")
    assert worker.call("get_value", {"handle": handle}).result == {"value": {"model": "m"}}
    run = worker.call("run", {"handler": "get_value", "handle": handle})
    assert run.result == {"value": {"model": "m"}}


def test_stats_count_requests() -> None:
    with start() as process:
        process.call("sleep", {"seconds": 0})
        process.call("raise", {})
        process.call("frobnicate")
        process.call("setup", {"kind": "test_value", "value": 1})
        process.call("ping")
        sleeping = process.send("sleep", {"seconds": 0.3})
        stats = process.call("stats").result
        assert stats["served"] == 2 and stats["failed"] == 2 and stats["in_flight"] == 1
        assert stats["handles"] == 1 and stats["pid"] == process.process.pid
        assert stats["uptime_s"] > 0 and stats["max_rss_bytes"] > 1_000_000
        read_until(process, sleeping)
        allocated = process.call("allocate", {"bytes": 64 * 1024 * 1024})
        assert allocated.result == {"allocated": 64 * 1024 * 1024}
        assert process.call("stats").result["max_rss_bytes"] >= 64 * 1024 * 1024


def test_a_streaming_handler_is_unknown_on_a_v1_connection() -> None:
    with WorkerProcess("dspex_worker") as process:
        process.hello(protocols=["v1"], args=TEST_HANDLERS)
        assert process.call("echo", {"x": 1}).result == {"x": 1}
        error = process.call("slow_stream", {"n": 1}).error
        assert error["type"] == "UnknownCommand" and "V2" in error["message"]


# -- exits ----------------------------------------------------------------------------


def test_eof_lets_in_flight_requests_finish_then_exits_0() -> None:
    with start() as process:
        sleeping = process.send("sleep", {"seconds": 0.3})
        process.close_input()
        response = process.read()
        assert response.id == sleeping and response.result == {"slept": 0.3}
        assert process.wait() == 0 and process.read() is None


def test_shutdown_answers_at_once_and_exits_0_after_in_flight_requests() -> None:
    with start() as process:
        sleeping = process.send("sleep", {"seconds": 0.3})
        shutdown = process.send("shutdown")
        first, second = process.read(), process.read()
        assert (first.id, first.result) == (shutdown, {"ok": True})
        assert (second.id, second.result) == (sleeping, {"slept": 0.3})
        assert process.wait() == 0


def test_shutdown_grace_bounds_the_wait_for_stuck_requests() -> None:
    with start() as process:
        process.send("sleep", {"seconds": 30})
        began = time.monotonic()
        assert process.call("shutdown", {"grace_s": 0.2}).result == {"ok": True}
        assert process.wait(timeout=5) == 0
        assert time.monotonic() - began < 3
        assert "still running" in process.stderr()


def test_garbage_with_a_request_in_flight_exits_2_at_once() -> None:
    with start() as process:
        process.send("sleep", {"seconds": 30})
        process.write_raw(b"HTTP/1.1 200 OK\r\n\r\n")
        answer = process.read()
        assert answer.id == 0 and answer.error["type"] == "FrameTooLong"
        assert process.wait(timeout=5) == exit_codes.PROTOCOL_ERROR


@pytest.mark.parametrize(
    ("args", "status"),
    [({"exit_code": 7}, 7), ({"signal": "SIGKILL"}, -signal.SIGKILL)],
)
def test_crash_ends_the_process_as_asked(args: dict[str, Any], status: int) -> None:
    with start() as process:
        process.send("crash", args)
        assert process.wait() == status


def test_stream_then_exit_writes_its_chunks_then_dies_without_an_end(tmp_path: Path) -> None:
    log = tmp_path / "flushed.log"
    with start() as process:
        stream_id = process.send("stream_then_exit", {"n": 3, "exit_code": 6, "flushed_log": str(log)})
        assert process.wait() == 6
        events = []
        while (message := process.read()) is not None:
            events.append(message)
    assert [e.frame_type for e in events] == [FrameType.STREAM_START] + [FrameType.STREAM_CHUNK] * 3
    assert events[0].header["n"] == 4 and [e.body("outputs") for e in events[1:]] == [
        [{"index": i}] for i in range(3)
    ]
    assert log.read_text().splitlines() == [f"{stream_id} {i}" for i in range(3)]


def test_stream_then_exit_with_null_exit_code_ends_the_stream(worker: WorkerProcess) -> None:
    stream_id = worker.send("stream_then_exit", {"n": 1, "total": 2, "exit_code": None})
    events = [worker.read() for _ in range(4)]
    assert all(e.id == stream_id for e in events)
    assert events[-1].frame_type is FrameType.STREAM_END and events[-1].header["ok"] == 2


def test_a_segfault_leaves_a_python_traceback_on_stderr() -> None:
    with start({"worker_id": "seg"}) as process:
        process.send("crash", {"signal": "SIGSEGV"})
        assert process.wait() == -signal.SIGSEGV
        stderr = process.stderr()
        assert "Fatal Python error: Segmentation fault" in stderr
        assert "_crash_now" in stderr and "handlers.py" in stderr


def test_crash_after_seconds_answers_first() -> None:
    with start() as process:
        answer = process.call("crash", {"exit_code": 5, "after_seconds": 0.1})
        assert answer.result == {"pid": process.process.pid, "after_seconds": 0.1}
        assert process.wait() == 5


def test_sigterm_is_a_quick_exit() -> None:
    with start() as process:
        process.send("sleep", {"seconds": 30})
        process.call("ping")
        process.process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == exit_codes.TERMINATED
        assert "SIGTERM" in process.stderr()


_INTERMEDIATE_PARENT = """
import os, subprocess, sys, time
child = subprocess.Popen(
    [sys.executable, "-m", "dspex_worker"], stdin=int(sys.argv[1]), stdout=subprocess.DEVNULL,
    pass_fds=(int(sys.argv[1]),),
)
print(child.pid, flush=True)
time.sleep(60)
"""


def test_the_worker_dies_with_its_parent_even_while_its_stdin_stays_open() -> None:
    stdin_read, stdin_write = os.pipe()
    parent = subprocess.Popen(
        [sys.executable, "-c", _INTERMEDIATE_PARENT, str(stdin_read)],
        stdout=subprocess.PIPE,
        pass_fds=(stdin_read,),
        cwd=PYTHON_ROOT,
        env={**os.environ, "PYTHONPATH": str(PYTHON_ROOT)},
    )
    os.close(stdin_read)
    worker_pid = 0
    try:
        worker_pid = int(parent.stdout.readline())
        # The worker is up (past boot) once it shows up as our grandchild.
        assert wait_for(lambda: not gone(worker_pid), 2)
        time.sleep(0.3)
        parent.kill()
        parent.wait()
        # This process still holds the write end: the worker never sees EOF.
        assert wait_for(lambda: gone(worker_pid), 2.0), f"worker {worker_pid} outlived its parent"
    finally:
        os.close(stdin_write)
        parent.stdout.close()
        if worker_pid and not gone(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)


# -- entry points ---------------------------------------------------------------------


def test_worker_id_flag_tags_log_lines() -> None:
    with WorkerProcess("dspex_worker", argv=["--worker-id", "w-9"]) as process:
        process.hello()
        process.close_input()
        assert process.wait() == 0
        assert f"dspex-worker[w-9 pid={process.process.pid}] INFO" in process.stderr()


def test_an_unknown_flag_exits_3() -> None:
    with WorkerProcess("dspex_worker", argv=["--frobnicate"]) as process:
        assert process.wait() == exit_codes.STARTUP_FAILED
        assert "--frobnicate" in process.stderr()


def test_die_at_start_exits_3_with_a_line_on_stderr() -> None:
    with WorkerProcess("dspex_testing.die_at_start") as process:
        assert process.wait() == 3
        assert "die_at_start" in process.stderr()


def test_banner_on_stdout_is_a_protocol_error_showing_the_banner() -> None:
    with WorkerProcess("dspex_testing.banner") as process:
        with pytest.raises(FrameTooLongError, match=r"\|Loading model weights"):
            process.hello()
