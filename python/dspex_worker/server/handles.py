"""Objects loaded by ``setup``, by the handle string returned to the client."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from dspex_worker.server.errors import UnknownHandleError


class HandleTable:
    """Handles are ``<kind>-<n>``, unique for the life of the worker process."""

    def __init__(self) -> None:
        self._objects: dict[str, Any] = {}
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, kind: str, value: Any) -> str:
        """Keep ``value``; returns its new handle."""
        with self._lock:
            handle = f"{kind}-{next(self._seq)}"
            self._objects[handle] = value
        return handle

    def get(self, handle: Any) -> Any:
        """The object for ``handle``.

        Raises:
            UnknownHandleError: no handle given, or one this worker never returned.
        """
        if handle is None:
            raise UnknownHandleError("this request needs args.handle (a handle returned by setup)")
        with self._lock:
            if isinstance(handle, str) and handle in self._objects:
                return self._objects[handle]
            known = ", ".join(self._objects) or "none"
        raise UnknownHandleError(
            f"Unknown handle: {handle!r}; this worker's handles: {known} "
            "(handles belong to the worker process that ran setup)"
        )

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)
