"""Die with the parent: ``PR_SET_PDEATHSIG`` plus a parent-pid polling thread.

A worker whose parent (the JVM) is gone must not live on as an orphan, even
when something else still holds its stdin open so that it never sees EOF.
Linux delivers a signal when the parent dies (:func:`request_death_signal`);
the signal is tied to the parent *thread* that forked us and does not exist
elsewhere, so :class:`ParentWatch` also polls ``getppid()`` as a fallback.

Only the standard library is imported here: this runs before anything heavy.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

#: From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1
#: How often the fallback checks the parent pid.
POLL_INTERVAL_S = 0.5


def request_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``sig`` when the parent dies; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


class ParentWatch:
    """Calls ``on_death`` once the parent pid changes (the parent died, we were re-parented).

    Args:
        on_death: called with (original parent pid, current parent pid); expected not to return.
        parent_pid: the parent to watch (default: the current one).
        interval_s: seconds between checks.
        getppid: reads the current parent pid (injectable for tests).
    """

    def __init__(
        self,
        on_death: Callable[[int, int], None],
        *,
        parent_pid: int | None = None,
        interval_s: float = POLL_INTERVAL_S,
        getppid: Callable[[], int] = os.getppid,
    ) -> None:
        self.on_death = on_death
        self.getppid = getppid
        self.parent_pid = getppid() if parent_pid is None else parent_pid
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """True while the parent lives; calls ``on_death`` (once) when it is gone."""
        current = self.getppid()
        if current == self.parent_pid:
            return True
        self._stop.set()
        self.on_death(self.parent_pid, current)
        return False

    def start(self) -> ParentWatch:
        """Poll in a daemon thread (it never keeps the process alive)."""
        self._thread = threading.Thread(target=self._run, name="dspex-parent-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (tests)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if not self.check():
                return


def die_with_parent(on_death: Callable[[int, int], None]) -> ParentWatch:
    """Arm both mechanisms; ``on_death`` runs at once if the parent died before we could arm.

    The death signal itself (SIGTERM) must be handled by the caller.
    """
    watch = ParentWatch(on_death)
    request_death_signal(signal.SIGTERM)
    # The parent may have died between fork and prctl; then no signal will ever come.
    if watch.check():
        watch.start()
    return watch
