"""The worker's own ``hello`` arguments (the protocol's are in ``protocol.settings``).

Nothing is required: a worker starts with defaults and hello refines them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dspex_worker import contract

#: Seconds in-flight requests get to finish after EOF or ``shutdown``.
DEFAULT_GRACE_S = 10.0

#: hello ``args`` keys read by :meth:`WorkerOptions.with_hello_args`.
WORKER_HELLO_KEYS: tuple[str, ...] = contract.HELLO_WORKER_KEYS


def _positive_int(key: str, value: Any) -> int:
    if type(value) is not int or value < 1:
        raise ValueError(f"hello args.{key} must be a positive integer, was {value!r}")
    return value


def _worker_id(value: Any) -> int | str:
    if type(value) is int or (isinstance(value, str) and value):
        return value
    raise ValueError(f"hello args.worker_id must be an int or a non-empty str, was {value!r}")


def _module_names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"hello args.handler_modules must list module names, was {value!r}")
    return tuple(value)


def _grace(value: Any, key: str = "grace_s") -> float:
    if type(value) not in (int, float) or not 0 <= value < float("inf"):
        raise ValueError(f"{key} must be a non-negative number of seconds, was {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class WorkerOptions:
    """Worker settings from the command line and ``hello``.

    Attributes:
        worker_id: shown in log lines and echoed in the hello result.
        threads: OpenMP/MKL/OpenBLAS threads (applied before numpy is imported).
        handler_modules: modules imported at hello; importing one registers its handlers.
        request_threads: handler calls that may run at once.
        grace_s: how long in-flight requests may take to finish after EOF or ``shutdown``.
        log_level: the worker's log level.
        usage_ledger: the file where every LM call is written down as it is made
            (:mod:`dspex_worker.usage_ledger`), in a directory the client owns.
    """

    worker_id: int | str | None = None
    threads: int | None = None
    handler_modules: tuple[str, ...] = ()
    request_threads: int = 4
    grace_s: float = DEFAULT_GRACE_S
    log_level: str | None = None
    usage_ledger: str | None = None

    def with_hello_args(self, args: Mapping[str, Any]) -> WorkerOptions:
        """Copy overridden by the worker keys of ``hello`` args (others ignored).

        Raises:
            ValueError: a bad value, naming the key.
        """
        changes: dict[str, Any] = {}
        if args.get("worker_id") is not None:
            changes["worker_id"] = _worker_id(args["worker_id"])
        if args.get("threads") is not None:
            changes["threads"] = _positive_int("threads", args["threads"])
        if args.get("handler_modules") is not None:
            changes["handler_modules"] = _module_names(args["handler_modules"])
        if args.get("request_threads") is not None:
            changes["request_threads"] = _positive_int("request_threads", args["request_threads"])
        if args.get("grace_s") is not None:
            changes["grace_s"] = _grace(args["grace_s"], "hello args.grace_s")
        if args.get("log_level") is not None:
            level = args["log_level"]
            if not isinstance(level, str):
                raise ValueError(f"hello args.log_level must be a string, was {level!r}")
            changes["log_level"] = args["log_level"]
        if args.get("usage_ledger") is not None:
            path = args["usage_ledger"]
            if not isinstance(path, str) or not path:
                raise ValueError(f"hello args.usage_ledger must be a file path, was {path!r}")
            changes["usage_ledger"] = path
        return dataclasses.replace(self, **changes) if changes else self


def parse_grace(value: Any, default: float) -> float:
    """``shutdown``'s ``args.grace_s`` (default: the worker's)."""
    return default if value is None else _grace(value, "shutdown args.grace_s")
