"""Header and stream map builders with the spec's exact key order (sections 2, 6).

Writers keep these orders so that both languages produce the same bytes;
readers accept any order.
"""

from __future__ import annotations

import datetime as _dt
import traceback as _traceback
from collections.abc import Mapping, Sequence
from typing import Any

from dspex_worker.protocol.errors import spec_name

#: ``error.type`` a reader gives a legacy V1 peer's plain-string error.
REMOTE_ERROR = "RemoteError"


def utc_timestamp(now: _dt.datetime | None = None) -> str:
    """UTC ISO-8601 with milliseconds: ``2026-11-26T15:09:42.123Z``."""
    now = (now or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z"


def body_list(specs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """``[{"name", "format"}]`` from ``(name, content format)`` pairs."""
    return [{"name": name, "format": fmt} for name, fmt in specs]


def request_header(
    id: int,
    command: str,
    args: Mapping[str, Any],
    timestamp: str,
    body: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """``{id, command, args, timestamp, body?}``; ``body`` is omitted when empty."""
    header: dict[str, Any] = {"id": id, "command": command, "args": args, "timestamp": timestamp}
    if body:
        header["body"] = list(body)
    return header


def response_header(
    id: int,
    result: Any,
    timestamp: str,
    body: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """``{id, success: true, result, timestamp, body?}``."""
    header: dict[str, Any] = {"id": id, "success": True, "result": result, "timestamp": timestamp}
    if body:
        header["body"] = list(body)
    return header


def error_response_header(id: int, error: Mapping[str, Any], timestamp: str) -> dict[str, Any]:
    """``{id, success: false, error, timestamp}``."""
    return {"id": id, "success": False, "error": dict(error), "timestamp": timestamp}


def error_map(type_name: str, message: str, traceback: str | None = None) -> dict[str, str]:
    """``{type, message, traceback?}``."""
    error = {"type": type_name, "message": message}
    if traceback:
        error["traceback"] = traceback
    return error


def error_type_name(exc: BaseException) -> str:
    """A protocol or codec error's spec name, else the exception's class name."""
    return spec_name(exc) or type(exc).__name__


def exception_error(exc: BaseException, *, with_traceback: bool = True) -> dict[str, str]:
    """The error map for an exception caught on the worker."""
    trace = None
    if with_traceback and exc.__traceback__ is not None:
        trace = "".join(_traceback.format_exception(exc))
    return error_map(error_type_name(exc), str(exc), trace)


def normalise_error(error: Any) -> dict[str, Any]:
    """A response's ``error`` as a map; a legacy plain string becomes ``RemoteError``."""
    if isinstance(error, Mapping):
        return dict(error)
    return {"type": REMOTE_ERROR, "message": str(error)}


def usage_map(prompt_tokens: int = 0, completion_tokens: int = 0, calls: int = 0) -> dict[str, int]:
    """``{prompt_tokens, completion_tokens, calls}``."""
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "calls": calls}


def failure(index: int, type_name: str, message: str) -> dict[str, Any]:
    """One failed element: ``{index, type, message}``."""
    return {"index": index, "type": type_name, "message": message}


def stream_start(id: int, n: int) -> dict[str, Any]:
    """STREAM_START map ``{id, n}``."""
    return {"id": id, "n": n}


def stream_chunk(
    id: int,
    indexes: Sequence[int],
    failed: Sequence[Mapping[str, Any]],
    usage: Mapping[str, int],
    body: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """STREAM_CHUNK map ``{id, indexes, failed, usage, body}`` (``body`` always present)."""
    return {
        "id": id,
        "indexes": list(indexes),
        "failed": [dict(f) for f in failed],
        "usage": dict(usage),
        "body": list(body),
    }


def stream_end(id: int, ok: int, failed: int, usage: Mapping[str, int]) -> dict[str, Any]:
    """STREAM_END map ``{id, ok, failed, usage}``: element counts and usage totals."""
    return {"id": id, "ok": ok, "failed": failed, "usage": dict(usage)}


def stream_error(id: int, error: Mapping[str, Any]) -> dict[str, Any]:
    """STREAM_ERROR map ``{id, error}``."""
    return {"id": id, "error": dict(error)}
