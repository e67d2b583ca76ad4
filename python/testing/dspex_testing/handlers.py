"""Handlers for tests, registered in the default registry when this module is imported.

Never imported by production code: a test enables them with hello
``{"handler_modules": ["dspex_testing.handlers"]}``. They exercise
the worker's own machinery (concurrency, crashes, stdout capture, memory,
streaming, environment). numpy and pyarrow are not imported here, so a test
can check that the worker imports neither on its own.
"""

from __future__ import annotations

import builtins
import ctypes
import faulthandler
import os
import signal
import sys
import threading
import time
from typing import Any

from dspex_worker.codec import msgpack_codec
from dspex_worker.handlers import DEFAULT_REGISTRY, Context, Loaded, Reply, register, register_setup
from dspex_worker.protocol import headers
from dspex_worker.protocol.frames import FrameType
from dspex_testing.echo_handlers import register_echo

register_echo(DEFAULT_REGISTRY)


def _number(ctx: Context, key: str, default: float | None = None) -> float:
    value = ctx.args.get(key, default)
    if type(value) not in (int, float) or value < 0:
        raise ValueError(f"args.{key} must be a non-negative number, was {value!r}")
    return float(value)


@register("sleep")
def sleep(ctx: Context) -> Reply:
    """Sleep ``args.seconds``; result ``{slept}``."""
    seconds = _number(ctx, "seconds")
    time.sleep(seconds)
    return Reply({"slept": seconds})


def _crash_now(exit_code: int | None, signal_name: str | None) -> None:
    sys.stderr.flush()
    if signal_name is not None:
        sig = signal.Signals[signal_name]
        if sig is signal.SIGSEGV:
            # A real invalid memory access, so faulthandler reports it as a C crash would.
            faulthandler._sigsegv()  # type: ignore[attr-defined]
            ctypes.string_at(0)
        os.kill(os.getpid(), sig)
        time.sleep(5)  # a caught or ignored signal: fall through to exit below
    os._exit(1 if exit_code is None else exit_code)


@register("crash")
def crash(ctx: Context) -> Reply:
    """Kill the worker: ``{exit_code?: int, signal?: "SIGKILL"|"SIGSEGV"|..., after_seconds?}``.

    Without ``after_seconds`` it dies before answering; with it, it answers
    ``{pid, after_seconds}`` and dies that much later.
    """
    exit_code = ctx.args.get("exit_code")
    if exit_code is not None and type(exit_code) is not int:
        raise ValueError(f"args.exit_code must be an integer, was {exit_code!r}")
    signal_name = ctx.args.get("signal")
    if signal_name is not None and signal_name not in signal.Signals.__members__:
        raise ValueError(f"args.signal must name a signal (SIGKILL, ...), was {signal_name!r}")
    if ctx.args.get("after_seconds") is None:
        ctx.logger.warning("crashing as asked (exit_code=%s, signal=%s)", exit_code, signal_name)
        _crash_now(exit_code, signal_name)
    delay = _number(ctx, "after_seconds")
    timer = threading.Timer(delay, _crash_now, (exit_code, signal_name))
    timer.daemon = True
    timer.start()
    return Reply({"pid": os.getpid(), "after_seconds": delay})


@register("raise")
def raise_(ctx: Context) -> None:
    """Raise ``args.type`` (a builtin exception, else a new Exception subclass) with ``message``."""
    name = ctx.args.get("type", "RuntimeError")
    message = ctx.args.get("message", "raised on request")
    exc_type = getattr(builtins, str(name), None)
    if not (isinstance(exc_type, type) and issubclass(exc_type, Exception)):
        exc_type = type(str(name), (Exception,), {})
    raise exc_type(message)


@register("print_stdout")
def print_stdout(ctx: Context) -> Reply:
    """Write ``args.text`` to stdout: ``mode`` ``print``, ``fd1`` (os.write(1, ...)) or ``both``."""
    text = str(ctx.args.get("text", "hello from a handler"))
    mode = ctx.args.get("mode", "both")
    if mode not in ("print", "fd1", "both"):
        raise ValueError(f"args.mode must be print, fd1 or both, was {mode!r}")
    if mode in ("print", "both"):
        print(text, flush=True)
    if mode in ("fd1", "both"):
        os.write(1, f"{text}\n".encode())
    return Reply({"printed": text, "mode": mode})


@register("allocate")
def allocate(ctx: Context) -> Reply:
    """Allocate ``args.bytes`` bytes and touch every page; result ``{allocated}``."""
    size = ctx.args.get("bytes")
    if type(size) is not int or size < 0:
        raise ValueError(f"args.bytes must be a non-negative integer, was {size!r}")
    block = bytearray(size)
    # Write one byte per page, or the kernel never backs the pages with memory.
    block[::4096] = b"\x01" * len(range(0, size, 4096))
    return Reply({"allocated": len(block)})


@register("slow_stream", streaming=True)
def slow_stream(ctx: Context) -> None:
    """Stream ``args.n`` elements, one chunk (outputs ``[{"index": i}]``) every ``args.delay_s``."""
    n = ctx.args.get("n")
    if type(n) is not int or n < 0:
        raise ValueError(f"args.n must be a non-negative integer, was {n!r}")
    delay = _number(ctx, "delay_s", 0.0)
    ctx.stream.start(n)
    for index in range(n):
        time.sleep(delay)
        ctx.stream.chunk([index], bodies={"outputs": [{"index": index}]})
    ctx.stream.end()


@register("stream_then_exit", streaming=True)
def stream_then_exit(ctx: Context) -> None:
    """Stream ``args.n`` one-element chunks (outputs ``[{"index": i}]``) of a stream of
    ``args.total`` (default ``n + 1``), one every ``args.delay_s``, then die at once with
    ``os._exit(args.exit_code)`` (default 9): no STREAM_END. With ``exit_code: null`` it
    ends the stream normally instead. With ``args.flushed_log``, appends ``"<request id>
    <index>"`` to that file once each chunk is on the channel (what the client must have).
    """
    n = ctx.args.get("n")
    total = ctx.args.get("total", n + 1 if type(n) is int else None)
    if type(n) is not int or type(total) is not int or not 0 <= n <= total:
        raise ValueError(
            f"args.n and args.total must be integers, 0 <= n <= total, were {n!r}, {total!r}"
        )
    exit_code = ctx.args.get("exit_code", 9)
    if exit_code is not None and type(exit_code) is not int:
        raise ValueError(f"args.exit_code must be an integer or null, was {exit_code!r}")
    delay = _number(ctx, "delay_s", 0.0)
    log = ctx.args.get("flushed_log")
    ctx.stream.start(total)
    for index in range(n if exit_code is not None else total):
        if delay:
            time.sleep(delay)
        ctx.stream.chunk([index], bodies={"outputs": [{"index": index}]})
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{ctx.id} {index}\n")
    if exit_code is not None:
        _crash_now(exit_code, None)
    ctx.stream.end()


@register("pay_then_exit", streaming=True)
def pay_then_exit(ctx: Context) -> None:
    """Stand in for LM calls, in the worker's usage ledger: ``args.paid`` calls of
    ``args.prompt_tokens`` / ``args.completion_tokens`` each (defaults 10, 2) are written down
    as made, the first ``args.reported`` of them streamed as one-element chunks carrying their
    usage; then ``args.in_flight`` calls start; then ``os._exit(9)``, no STREAM_END (with
    ``exit_code: null``, the stream ends instead, after the calls in flight ended). Needs hello
    ``usage_ledger``.
    """
    from dspex_worker import usage_ledger

    ledger = usage_ledger.current()
    if ledger is None:
        raise ValueError("pay_then_exit needs a usage ledger (hello args.usage_ledger)")
    paid, reported, in_flight = (ctx.args.get(k, 0) for k in ("paid", "reported", "in_flight"))
    prompt, completion = ctx.args.get("prompt_tokens", 10), ctx.args.get("completion_tokens", 2)
    exit_code = ctx.args.get("exit_code", 9)
    ctx.stream.start(reported)
    for index in range(paid):
        call = ledger.started()
        ledger.used(call, prompt, completion)
        ledger.ended(call)
        if index < reported:
            usage = headers.usage_map(prompt, completion, 1)
            ctx.stream.chunk([index], usage=usage, bodies={"outputs": [{"index": index}]})
    running = [ledger.started() for _ in range(in_flight)]
    if exit_code is not None:
        _crash_now(exit_code, None)
    for call in running:
        ledger.ended(call)
    ctx.stream.end()


@register("stream_with_corrupt_chunk", streaming=True)
def stream_with_corrupt_chunk(ctx: Context) -> None:
    """Stream ``args.n`` one-element chunks (outputs ``[{"index": i}]``) and end normally, but
    send the chunk of index ``args.corrupt`` with a MessagePack body the client cannot decode
    (the byte 0xc1, which MessagePack never uses): a chunk broken in transit, while the
    channel stays in step.
    """
    n = ctx.args.get("n")
    corrupt = ctx.args.get("corrupt")
    if type(n) is not int or type(corrupt) is not int or not 0 <= corrupt < n:
        raise ValueError(
            f"args.n and args.corrupt must be integers, 0 <= corrupt < n, were {n!r}, {corrupt!r}"
        )
    stream = ctx.stream
    stream.start(n)
    for index in range(n):
        if index != corrupt:
            stream.chunk([index], bodies={"outputs": [{"index": index}]})
            continue
        header = headers.stream_chunk(
            ctx.id, [index], [], headers.usage_map(), headers.body_list([("outputs", "msgpack")])
        )
        frames = [
            (FrameType.STREAM_CHUNK, msgpack_codec.encode(header)),
            (FrameType.MSGPACK, b"\xc1"),
        ]
        # Below the stream API on purpose: the writer's own lock and frame writer, so the frames
        # are a real chunk's with one body byte wrong.
        stream._writer._send(frames, [])  # noqa: SLF001
        stream._mark([index])  # noqa: SLF001 - reported, as a real chunk would be
        stream.ok += 1
    stream.end()


@register("env")
def env(ctx: Context) -> Reply:
    """The environment variables named in ``args.names`` (None when unset)."""
    names = ctx.args.get("names", [])
    return Reply({str(name): os.environ.get(str(name)) for name in names})


@register("pid")
def pid(ctx: Context) -> Reply:
    """``{pid, ppid}`` of the worker."""
    return Reply({"pid": os.getpid(), "ppid": os.getppid()})


@register("loaded_modules")
def loaded_modules(ctx: Context) -> Reply:
    """Whether each module in ``args.names`` has been imported in the worker."""
    return Reply({str(name): str(name) in sys.modules for name in ctx.args.get("names", [])})


@register_setup("test_value")
def load_test_value(ctx: Context) -> Loaded:
    """Setup kind ``test_value``: "loads" ``args.value`` (after ``args.load_s`` seconds)."""
    time.sleep(_number(ctx, "load_s", 0.0))
    return Loaded(ctx.args.get("value"), {"loaded": True})


@register("get_value")
def get_value(ctx: Context) -> Reply:
    """The value loaded for ``args.handle`` by setup ``test_value``."""
    value: Any = ctx.handle
    return Reply({"value": value})
