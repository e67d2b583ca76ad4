"""Built-in commands answered on the reading thread, even while handlers run.

``setup`` and ``run`` are built-in too but go to handlers (:mod:`.calls`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, Protocol

from dspex_worker.protocol.message import Message
from dspex_worker.protocol.writer import MessageWriter
from dspex_worker.server.counters import RequestCounters
from dspex_worker.server.errors import UnexpectedCommandError
from dspex_worker.server.handles import HandleTable
from dspex_worker.server.options import WorkerOptions, parse_grace
from dspex_worker.server.profile import Profile


class WorkerState(Protocol):
    """What the control commands read from and do to the worker."""

    writer: MessageWriter
    profile: Profile
    options: WorkerOptions
    counters: RequestCounters
    handles: HandleTable

    def request_stop(self, grace_s: float) -> None:
        """Stop reading; let in-flight requests finish within ``grace_s``; exit 0."""


ControlCommand = Callable[[WorkerState, Message], None]


def max_rss_bytes() -> int:
    """Peak resident set size of this process, in bytes."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak if sys.platform == "darwin" else peak * 1024


def ping(worker: WorkerState, message: Message) -> None:
    """``{ok, pid, in_flight}`` (the echo profile: just ``{ok}``)."""
    result: dict[str, Any] = {"ok": True}
    if worker.profile.detailed_ping:
        result.update(pid=os.getpid(), in_flight=worker.counters.in_flight)
    worker.writer.write_response(message.id, result)


def stats(worker: WorkerState, message: Message) -> None:
    """Request counts, uptime and peak memory."""
    counters = worker.counters
    worker.writer.write_response(
        message.id,
        {
            "served": counters.served,
            "failed": counters.failed,
            "in_flight": counters.in_flight,
            "handles": len(worker.handles),
            "uptime_s": round(counters.uptime_s(), 3),
            "max_rss_bytes": max_rss_bytes(),
            "pid": os.getpid(),
            "worker_id": worker.options.worker_id,
        },
    )


def shutdown(worker: WorkerState, message: Message) -> None:
    """Answer ``{ok: true}``, stop reading; exit 0 once in-flight requests finish or grace ends."""
    grace_s = parse_grace(message.args.get("grace_s"), worker.options.grace_s)
    worker.writer.write_response(message.id, {"ok": True})
    worker.request_stop(grace_s)


def hello_again(worker: WorkerState, message: Message) -> None:
    """A second hello: an error, the connection stays as negotiated."""
    raise UnexpectedCommandError(
        "hello is only valid as the first request of a connection; this one is already negotiated"
    )


#: The built-in commands answered inline, by name.
CONTROL_COMMANDS: dict[str, ControlCommand] = {
    "hello": hello_again,
    "ping": ping,
    "stats": stats,
    "shutdown": shutdown,
}
