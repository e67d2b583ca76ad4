"""The request loop in process, on in-memory channels: routing, answers, streams, draining."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

import pytest

from dspex_worker import exit_codes, logs
from dspex_worker.handlers import Context, Loaded, Registry, Reply
from dspex_worker.protocol.frames import FrameReader, FrameType, FrameWriter
from dspex_worker.protocol.message import Message
from dspex_worker.protocol.reader import MessageReader
from dspex_worker.protocol.writer import MessageWriter
from dspex_worker.server.options import WorkerOptions
from dspex_worker.server.profile import Profile
from dspex_worker.server.serve import serve

Request = tuple[str, dict[str, Any]]


@pytest.fixture(autouse=True)
def _no_worker_id_left_behind() -> Iterator[None]:
    # hello sets the log tag process-wide; other tests must not inherit it.
    yield
    logs.set_worker_id(None)


class HardExit(Exception):
    """Raised instead of leaving the test process."""


def hard_exit(code: int) -> NoReturn:
    raise HardExit(code)


def client_bytes(requests: Sequence[Request], hello_args: dict[str, Any] | None = None) -> bytes:
    """A hello offering v2, then the requests (ids 1, 2, ...), then EOF."""
    out = io.BytesIO()
    frames = FrameWriter(out, v2=False)
    writer = MessageWriter(frames)
    writer.write_request(0, "hello", {"protocols": ["v2", "v1"], **(hello_args or {})})
    frames.switch_to_v2()
    for request_id, (command, args) in enumerate(requests, 1):
        writer.write_request(request_id, command, args)
    return out.getvalue()


def answers(data: bytes) -> tuple[Message, list[Message]]:
    """The hello answer and every later message."""
    frames = FrameReader(io.BytesIO(data), v2=False)
    reader = MessageReader(frames)
    hello = reader.read()
    frames.switch_to_v2()
    return hello, list(iter(reader.read, None))


def run(
    registry: Registry,
    requests: Sequence[Request],
    *,
    request_threads: int = 2,
    hello_args: dict[str, Any] | None = None,
) -> tuple[int, Message, list[Message]]:
    profile = Profile("test worker", registry, request_threads=request_threads)
    out = io.BytesIO()
    status = serve(
        io.BytesIO(client_bytes(requests, hello_args)), out, profile, hard_exit=hard_exit
    )
    hello, rest = answers(out.getvalue())
    return status, hello, rest


def by_id(messages: list[Message]) -> dict[int, list[Message]]:
    grouped: dict[int, list[Message]] = {}
    for message in messages:
        grouped.setdefault(message.id, []).append(message)
    return grouped


def registry_of(**handlers: Callable[[Context], Any]) -> Registry:
    registry = Registry()
    for name, fn in handlers.items():
        registry.register(name, fn, streaming=name.startswith("stream"))
    return registry


def test_results_plain_maps_none_and_replies_with_bodies() -> None:
    registry = registry_of(
        plain=lambda ctx: {"got": ctx.args},
        nothing=lambda ctx: None,
        bodies=lambda ctx: Reply({"n": 2}, {"rows": [{"a": 1}, {"a": 2}]}, "msgpack"),
    )
    status, _, rest = run(
        registry, [("plain", {"x": 1}), ("nothing", {}), ("run", {"handler": "bodies"})]
    )
    answered = by_id(rest)
    assert status == exit_codes.OK
    assert answered[1][0].result == {"got": {"x": 1}}
    assert answered[2][0].result == {}
    assert answered[3][0].result == {"n": 2} and answered[3][0].body("rows") == [{"a": 1}, {"a": 2}]
    assert answered[3][0].body_format("rows") == "msgpack"


def test_inline_profile_answers_in_arrival_order() -> None:
    registry = registry_of(a=lambda ctx: {"i": ctx.args["i"]})
    _, _, rest = run(registry, [("a", {"i": i}) for i in range(20)], request_threads=0)
    assert [m.result["i"] for m in rest] == list(range(20))


def test_a_result_that_cannot_be_encoded_becomes_an_error_response() -> None:
    registry = registry_of(nan=lambda ctx: Reply({"ok": True}, {"b": object()}))
    _, _, rest = run(registry, [("nan", {})])
    assert rest[0].error["type"] == "EncodingError"


def test_an_error_message_json_cannot_carry_is_still_answered() -> None:
    def broken(ctx: Context) -> None:
        raise ValueError("half a surrogate \ud800")

    _, _, rest = run(registry_of(broken=broken), [("broken", {})])
    assert rest[0].error["type"] == "ValueError" and "\\ud800" in rest[0].error["message"]


def test_sys_exit_in_a_handler_fails_only_its_request() -> None:
    def leave(ctx: Context) -> None:
        raise SystemExit(3)

    _, _, rest = run(registry_of(leave=leave, ok=lambda ctx: {}), [("leave", {}), ("ok", {})])
    assert by_id(rest)[1][0].error["type"] == "SystemExit" and by_id(rest)[2][0].success


def test_an_incomplete_stream_ends_with_stream_error() -> None:
    def stream_short(ctx: Context) -> None:
        ctx.stream.start(3)
        ctx.stream.chunk([0])

    _, _, rest = run(registry_of(stream_short=stream_short), [("stream_short", {})])
    assert [m.frame_type for m in rest] == [
        FrameType.STREAM_START, FrameType.STREAM_CHUNK, FrameType.STREAM_ERROR
    ]
    assert "reported 1 of its 3" in rest[-1].header["error"]["message"]


def test_a_complete_stream_is_ended_for_the_handler() -> None:
    def stream_all(ctx: Context) -> None:
        ctx.stream.start(2)
        ctx.stream.chunk([1, 0], bodies={"outputs": [{"i": 1}, {"i": 0}]})

    _, _, rest = run(registry_of(stream_all=stream_all), [("stream_all", {})])
    assert rest[-1].frame_type is FrameType.STREAM_END and rest[-1].header["ok"] == 2


def test_returning_a_reply_after_streaming_is_a_stream_error() -> None:
    def stream_reply(ctx: Context) -> Reply:
        ctx.stream.start(0)
        return Reply({"late": True})

    _, _, rest = run(registry_of(stream_reply=stream_reply), [("stream_reply", {})])
    assert rest[-1].frame_type is FrameType.STREAM_ERROR
    assert rest[-1].header["error"]["type"] == "TypeError"


def test_setup_returns_a_handle_that_run_resolves_and_strips_routing_keys() -> None:
    registry = registry_of(use=lambda ctx: {"value": ctx.handle, "args": ctx.args})
    registry.register_setup("thing", lambda ctx: Loaded(ctx.args, {"dim": 3}))
    _, _, rest = run(
        registry,
        [
            ("setup", {"kind": "thing", "path": "/m"}),
            ("run", {"handler": "use", "handle": "thing-1"}),
        ],
        request_threads=0,
    )
    assert rest[0].result == {"handle": "thing-1", "dim": 3}
    assert rest[1].result == {"value": {"path": "/m"}, "args": {"handle": "thing-1"}}


def test_routing_errors_carry_no_traceback() -> None:
    _, _, rest = run(registry_of(), [("nope", {}), ("run", {"handler": 5}), ("setup", {})])
    assert [m.error["type"] for m in rest] == ["UnknownCommand", "UnknownHandler", "UnknownHandler"]
    assert not any("traceback" in m.error for m in rest)


def test_a_bad_shutdown_grace_fails_the_shutdown_only() -> None:
    status, _, rest = run(registry_of(), [("shutdown", {"grace_s": -1}), ("ping", {})])
    assert rest[0].error["type"] == "ValueError" and rest[1].result["ok"] is True
    assert status == exit_codes.OK


def test_eof_waits_for_in_flight_requests() -> None:
    release = threading.Event()

    def waits(ctx: Context) -> dict[str, bool]:
        return {"released": release.wait(5)}

    threading.Timer(0.2, release.set).start()
    status, _, rest = run(registry_of(waits=waits), [("waits", {})])
    assert status == exit_codes.OK and rest[0].result == {"released": True}


def test_requests_still_running_after_the_grace_period_are_abandoned() -> None:
    release = threading.Event()
    try:
        registry = registry_of(stuck=lambda ctx: {"released": release.wait(5)})
        with pytest.raises(HardExit) as exited:
            run(registry, [("stuck", {})], hello_args={"grace_s": 0.1})
        assert exited.value.args == (exit_codes.OK,)
    finally:
        release.set()


def test_hello_applies_worker_options_and_describes_the_profile() -> None:
    registry = registry_of(a=lambda ctx: {})
    registry.register_setup("k", lambda ctx: 1)
    _, hello, _ = run(registry, [], hello_args={"worker_id": "x", "request_threads": 3})
    result = hello.result
    assert result["worker_id"] == "x" and result["request_threads"] == 3
    assert result["capabilities"]["handlers"] == ["a"]
    assert result["capabilities"]["setup_kinds"] == ["k"]


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ({"worker_id": True}, "worker_id"),
        ({"worker_id": ""}, "worker_id"),
        ({"threads": 0}, "threads"),
        ({"handler_modules": "dspex_testing.handlers"}, "handler_modules"),
        ({"request_threads": 1.5}, "request_threads"),
        ({"grace_s": "10"}, "grace_s"),
        ({"log_level": 10}, "log_level"),
    ],
)
def test_bad_worker_options_name_the_key(args: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        WorkerOptions().with_hello_args(args)


def test_worker_options_ignore_protocol_keys_and_nulls() -> None:
    options = WorkerOptions(worker_id=1)
    assert options.with_hello_args({"protocols": ["v2"], "worker_id": None}) is options


def test_concurrent_writers_never_interleave_the_frames_of_a_message() -> None:
    out = io.BytesIO()
    writer = MessageWriter(FrameWriter(out))

    def write(thread: int) -> None:
        for i in range(40):
            request_id = thread * 1000 + i
            rows = [{"id": request_id, "k": k} for k in range(3)]
            bodies = {"a": rows, "b": rows}
            writer.write_response(request_id, {"t": thread}, bodies, formats="msgpack")
            writer.write_stream_chunk(request_id, [0], bodies={"o": rows}, formats="msgpack")

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    messages = list(iter(MessageReader(FrameReader(io.BytesIO(out.getvalue()))).read, None))
    assert len(messages) == 8 * 40 * 2
    for message in messages:
        names = ["o"] if message.is_stream else ["a", "b"]
        for name in names:
            assert {row["id"] for row in message.body(name)} == {message.id}
