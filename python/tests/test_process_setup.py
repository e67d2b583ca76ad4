"""Process-level parts of a worker, in process: parent watch, thread limits, log lines."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from dspex_worker import logs, parent, threadenv
from dspex_testing.client import PYTHON_ROOT


def test_parent_watch_calls_on_death_once_the_parent_pid_changes() -> None:
    ppids = iter([100, 100, 100, 1])
    died = threading.Event()
    seen: list[tuple[int, int]] = []

    def on_death(original: int, current: int) -> None:
        seen.append((original, current))
        died.set()

    watch = parent.ParentWatch(on_death, interval_s=0.01, getppid=lambda: next(ppids, 1))
    watch.start()
    assert died.wait(2) and seen == [(100, 1)]
    watch.stop()


def test_parent_watch_reports_a_parent_that_died_before_it_was_armed() -> None:
    seen: list[tuple[int, int]] = []
    watch = parent.ParentWatch(lambda o, c: seen.append((o, c)), parent_pid=42, getppid=lambda: 1)
    assert watch.check() is False and seen == [(42, 1)]


_READ_DEATH_SIGNAL = """
import ctypes, signal
from dspex_worker.parent import request_death_signal
assert request_death_signal(signal.SIGTERM)
value = ctypes.c_int()
assert ctypes.CDLL(None).prctl(2, ctypes.byref(value), 0, 0, 0) == 0  # PR_GET_PDEATHSIG
print(value.value)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_the_death_signal_is_armed_on_linux() -> None:
    # In a child: arming it here would tie the test runner to its own parent.
    out = subprocess.run(
        [sys.executable, "-c", _READ_DEATH_SIGNAL],
        cwd=PYTHON_ROOT,
        env={**os.environ, "PYTHONPATH": str(PYTHON_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout) == signal.SIGTERM


@pytest.fixture()
def clean_thread_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in threadenv.THREAD_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch


def test_thread_limit_is_set_while_numpy_is_not_imported(
    clean_thread_env: pytest.MonkeyPatch,
) -> None:
    clean_thread_env.delitem(sys.modules, "numpy", raising=False)
    clean_thread_env.delitem(sys.modules, "torch", raising=False)
    assert threadenv.apply_thread_limit(3) is True
    assert {os.environ[n] for n in threadenv.THREAD_ENV_VARS} == {"3"}
    assert threadenv.current_thread_limit() == 3


def test_thread_limit_is_not_set_once_numpy_is_imported(
    clean_thread_env: pytest.MonkeyPatch,
) -> None:
    import numpy  # noqa: F401 - the point of the test

    assert threadenv.apply_thread_limit(3) is False
    assert threadenv.current_thread_limit() is None


def test_log_lines_carry_the_worker_id_and_pid() -> None:
    logger = logs.configure("INFO")
    handler = next(h for h in logger.handlers if getattr(h, "_dspex", False))
    record = logging.LogRecord("dspex_worker.x", logging.WARNING, "f.py", 1, "hi %s", ("x",), None)
    try:
        assert handler.format(record) == f"dspex-worker[pid={os.getpid()}] WARNING hi x"
        logs.set_worker_id(3)
        assert handler.format(record) == f"dspex-worker[3 pid={os.getpid()}] WARNING hi x"
    finally:
        logs.set_worker_id(None)
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def test_an_unknown_log_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level .verbose."):
        logs.set_level("verbose")
