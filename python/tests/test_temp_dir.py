"""The worker's private temp dir (``dspex_worker.offline``): left behind on no exit path.

A worker started by the Java connector is given its directory in
``$DSPEX_WORKER_TMPDIR`` and leaves it to the connector; a standalone worker makes
its own and removes it however it ends: EOF, SIGTERM (a quick ``os._exit`` that
skips ``atexit``), or its parent's death.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from dspex_worker import exit_codes
from dspex_worker.offline import TEMP_DIR_ENV
from dspex_testing.client import WorkerProcess

TEST_HANDLERS = {"handler_modules": ["dspex_testing.handlers"]}
#: The tests' own process sets DSPY_CACHEDIR (conftest); a worker must choose its own.
NO_CACHE_DIR = {"DSPY_CACHEDIR": "", TEMP_DIR_ENV: ""}


def started(env: dict[str, str]) -> tuple[WorkerProcess, Path]:
    """A worker after hello, and its temp dir (the parent of its default DSPy cache)."""
    process = WorkerProcess("dspex_worker", env=env)
    process.hello(args=TEST_HANDLERS)
    cache = process.call("env", {"names": ["DSPY_CACHEDIR"]}).result["DSPY_CACHEDIR"]
    assert cache, process.stderr()
    return process, Path(cache).parent


def wait_until_gone(path: Path, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return not path.exists()


def test_a_standalone_worker_stopped_by_sigterm_removes_its_temp_dir() -> None:
    process, temp = started(NO_CACHE_DIR)
    with process:
        assert temp.is_dir() and temp.name.startswith(f"dspex-worker-{process.process.pid}-")
        process.process.send_signal(signal.SIGTERM)
        assert process.wait() == exit_codes.TERMINATED
    assert wait_until_gone(temp), f"{temp} is still there after SIGTERM"


def test_a_standalone_worker_at_eof_removes_its_temp_dir() -> None:
    process, temp = started(NO_CACHE_DIR)
    with process:
        process.close_input()
        assert process.wait() == exit_codes.OK
    assert wait_until_gone(temp)


def test_a_worker_given_its_temp_dir_uses_it_and_leaves_it_to_its_maker(tmp_path: Path) -> None:
    given = tmp_path / "worker-1"
    given.mkdir()
    process, temp = started({**NO_CACHE_DIR, TEMP_DIR_ENV: str(given)})
    with process:
        assert temp == given
        process.process.send_signal(signal.SIGTERM)
        assert process.wait() == exit_codes.TERMINATED
    assert given.is_dir()
    assert os.listdir(tmp_path) == ["worker-1"]
