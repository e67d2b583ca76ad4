"""``<output>.batches.json``: the batches a job submitted, so that a re-run picks them up.

One JSON document, rewritten whole under an exclusive lock (``<file>.lock``, so the workers of
one machine take turns) by writing a temporary file beside it and renaming it over the old one:
a reader, or a job killed mid-write, only ever sees a whole file.

.. code-block:: json

    {"format": "dspex-batches", "version": 1, "batches": [
      {"id": "batch_abc", "provider": "openai", "input_file_id": "file-1",
       "endpoint": "/v1/chat/completions", "model": "gpt-4o-mini", "created_at": 1764770000,
       "status": "in_progress", "output_file_id": null, "error_file_id": null,
       "custom_ids": ["dspex-...", "..."]}]}

A batch is written when it is created and again when its status changes (at most a handful of
times: ``validating``, ``in_progress``, ``finalizing``, an end).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from typing import Any

FORMAT = "dspex-batches"
VERSION = 1


class StateFileError(Exception):
    """The state file exists but is not one this worker can read."""


class BatchStateFile:
    """The state file at ``path``, shared by the workers (and threads) that name it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread_lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock, open(self.path + ".lock", "a+") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                document = json.load(handle)
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise StateFileError(f"batch state file {self.path}: not readable as JSON ({exc}); move it"
                                 " away to submit every request again") from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise StateFileError(f"batch state file {self.path}: not a {FORMAT} file")
        if document.get("version") != VERSION:
            raise StateFileError(f"batch state file {self.path}: version {document.get('version')!r},"
                                 f" this worker reads {VERSION}")
        return [b for b in document.get("batches", []) if isinstance(b, dict) and isinstance(b.get("id"), str)]

    def _write(self, batches: list[dict[str, Any]]) -> None:
        folder = os.path.dirname(self.path) or "."
        fd, temp = tempfile.mkstemp(prefix=os.path.basename(self.path) + ".", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"format": FORMAT, "version": VERSION, "batches": batches}, handle,
                          ensure_ascii=False, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def batches(self) -> list[dict[str, Any]]:
        """Every recorded batch, oldest first."""
        with self._locked():
            return self._read()

    def record(self, batch: Mapping[str, Any]) -> None:
        """Adds ``batch``, or updates the recorded batch of its ``id`` with its fields."""
        with self._locked():
            batches = self._read()
            for existing in batches:
                if existing["id"] == batch["id"]:
                    existing.update(batch)
                    break
            else:
                batches.append(dict(batch))
            self._write(batches)
