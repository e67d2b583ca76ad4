"""Worker logging: one stderr line per record, tagged with the worker id and pid.

Lines look like ``dspex-worker[3 pid=1234] INFO serving v2``; the Java side
pumps stderr into its own log, so the tag is what ties a line to a worker.
The id is known only after ``hello`` (or ``--worker-id``), so it is read at
format time rather than baked into the format string.
"""

from __future__ import annotations

import logging
import os
import sys

#: The root of every worker logger; handler contexts log under ``dspex_worker.handlers.<name>``.
ROOT = "dspex_worker"

_worker_id: str | None = None


def prefix() -> str:
    """``dspex-worker[<id> pid=<pid>]``, or ``dspex-worker[pid=<pid>]`` before the id is known."""
    tag = f"pid={os.getpid()}" if _worker_id is None else f"{_worker_id} pid={os.getpid()}"
    return f"dspex-worker[{tag}]"


class _WorkerFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{prefix()} {record.levelname} {record.getMessage()}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure(level: str | int = logging.INFO) -> logging.Logger:
    """Send the worker's log records to stderr (idempotent); returns the root worker logger."""
    logger = logging.getLogger(ROOT)
    if not any(getattr(h, "_dspex", False) for h in logger.handlers):
        # sys.stderr, not fd 2 directly: it stays the real stderr after claim_stdio.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_WorkerFormatter())
        handler._dspex = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        # Records must not reach a root handler a user library may install on stdout.
        logger.propagate = False
    set_level(level)
    return logger


def set_level(level: str | int) -> None:
    """Set the worker's log level (``"DEBUG"``, ``"INFO"``, ... or a number).

    Raises:
        ValueError: an unknown level name.
    """
    if isinstance(level, str):
        named = logging.getLevelName(level.upper())
        if not isinstance(named, int):
            raise ValueError(f"unknown log level {level!r}")
        level = named
    logging.getLogger(ROOT).setLevel(level)


def set_worker_id(worker_id: int | str | None) -> None:
    """Tag every later line with this worker id."""
    global _worker_id
    _worker_id = None if worker_id is None else str(worker_id)


def get_logger(name: str = "") -> logging.Logger:
    """A logger under the worker root (``get_logger("handlers.echo")``)."""
    return logging.getLogger(f"{ROOT}.{name}" if name else ROOT)
