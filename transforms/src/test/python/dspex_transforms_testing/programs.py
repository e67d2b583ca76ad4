"""DSPy programs for the transforms' fault tests, loaded with ``DSPexPredict.ofProgram``.

``faulty_qa`` is a real ``dspy.Module`` wrapping ``dspy.Predict("question -> answer")``
(so its answers come from the LM, through DSPy's adapters) that kills its worker
process on markers in the question:

- ``__CRASH_ONCE__``: ``os._exit(9)`` the first time the element runs, before its LM
  call, answers after (a marker file per question in ``marker_dir`` remembers the first
  time, across the restarted workers);
- ``__POISON__``: ``os._exit(9)`` every time, before the LM call;
- ``__DIE_AFTER_CALL__``: the first time, ``os._exit(9)`` right after the element's LM
  call returned: a call paid for whose answer never leaves the worker;
- ``__KILL_MID_CALLS__``: the first time, waits until the LM server (``stats_url``) is
  serving ``in_flight`` requests at once, other elements' calls, then ``SIGKILL``\s its
  own process, as the kernel's OOM killer would: calls the server received and the
  worker never saw answered.
- ``__STOP_ONCE__``: the worker stops itself (``SIGSTOP``: alive, but answering nothing,
  not even pings) the first time the element runs, answers after.

dspy is imported by the factory, so importing this module stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
import urllib.request
from typing import Any

CRASH_ONCE = "__CRASH_ONCE__"
POISON = "__POISON__"
STOP_ONCE = "__STOP_ONCE__"
DIE_AFTER_CALL = "__DIE_AFTER_CALL__"
KILL_MID_CALLS = "__KILL_MID_CALLS__"
#: Exit status of a worker killed by a marker.
EXIT_CODE = 9
#: Longest wait of ``__KILL_MID_CALLS__`` for the other calls to reach the server.
MAX_WAIT_S = 30.0


def _die() -> None:
    sys.stderr.flush()
    os._exit(EXIT_CODE)


def _first_time(marker_dir: str, question: str) -> bool:
    """True once per question: creates its marker file atomically (``O_EXCL``)."""
    name = "crashed-" + hashlib.sha256(question.encode("utf-8")).hexdigest()[:16]
    try:
        os.close(os.open(os.path.join(marker_dir, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _kill_when_serving(stats_url: str, in_flight: int) -> None:
    """SIGKILL this process once the LM server serves ``in_flight`` requests at once."""
    deadline = time.monotonic() + MAX_WAIT_S
    while time.monotonic() < deadline:
        with urllib.request.urlopen(stats_url, timeout=10) as answer:
            if json.load(answer)["in_flight"] >= in_flight:
                break
        time.sleep(0.02)
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def faulty_qa(marker_dir: str, stats_url: str | None = None, in_flight: int = 1) -> Any:
    """``question -> answer`` through ``dspy.Predict``, dying on the markers above.

    Args:
        marker_dir: an existing directory shared by every worker of the test, where
            the once-only markers note that they crashed already.
        stats_url: the LM server's ``/stats``, for ``__KILL_MID_CALLS__``.
        in_flight: the requests ``__KILL_MID_CALLS__`` waits for.
    """
    import dspy

    class FaultyQA(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.answer = dspy.Predict("question -> answer")

        def forward(self, question: str) -> Any:
            if POISON in question or (CRASH_ONCE in question and _first_time(marker_dir, question)):
                _die()
            if STOP_ONCE in question and _first_time(marker_dir, question):
                os.kill(os.getpid(), signal.SIGSTOP)
            if KILL_MID_CALLS in question and stats_url and _first_time(marker_dir, question):
                _kill_when_serving(stats_url, in_flight)
            answer = self.answer(question=question)
            if DIE_AFTER_CALL in question and _first_time(marker_dir, question):
                _die()
            return answer

    return FaultyQA()



def typed_lists() -> Any:
    """``question -> counts: list[int], scores: list[float], flags: list[bool]``, answered
    without an LM (the lists are computed from the question), so a test sees list outputs of
    every element type arrive as the Beam types its output schema declares.
    """
    import dspy

    class TypedLists(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lists = dspy.Predict(
                "question -> counts: list[int], scores: list[float], flags: list[bool]")

        def forward(self, question: str) -> Any:
            n = len(question)
            return dspy.Prediction(counts=[n, 2 * n], scores=[n / 2, 0.25],
                                   flags=[n % 2 == 0, True])

    return TypedLists()
