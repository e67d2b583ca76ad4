"""Request counters for ``stats`` and ``ping``, and waiting for in-flight requests to finish."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RequestCounters:
    """Counts handler requests (``setup``, ``run``, handler commands), not control commands.

    Args:
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self.served = 0
        self.failed = 0
        self.in_flight = 0
        self._idle = threading.Condition()

    def rejected(self) -> None:
        """A request answered at once with an error (unknown command, handler)."""
        with self._idle:
            self.failed += 1

    def begin(self) -> None:
        """A request was accepted (queued or running)."""
        with self._idle:
            self.in_flight += 1

    def finish(self, ok: bool) -> None:
        """A request was answered (``ok``: successfully)."""
        with self._idle:
            self.in_flight -= 1
            if ok:
                self.served += 1
            else:
                self.failed += 1
            if self.in_flight == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for no request in flight; True when idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self.in_flight == 0, timeout=timeout_s)

    def uptime_s(self) -> float:
        """Seconds since the counters were created."""
        return self._clock() - self.started
