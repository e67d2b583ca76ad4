"""DSPy programs for the transforms' fault tests, loaded with ``DSPexPredict.ofProgram``.

``faulty_qa`` is a real ``dspy.Module`` wrapping ``dspy.Predict("question -> answer")``
(so its answers come from the LM, through DSPy's adapters) that kills its worker
process on markers in the question, before any LM call for that element:

- ``__CRASH_ONCE__``: ``os._exit(9)`` the first time the element runs, answers after
  (a marker file per question in ``marker_dir`` remembers the first time, across the
  restarted workers);
- ``__POISON__``: ``os._exit(9)`` every time;
- ``__STOP_ONCE__``: the worker stops itself (``SIGSTOP``: alive, but answering nothing,
  not even pings) the first time the element runs, answers after.

dspy is imported by the factory, so importing this module stays cheap.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
from typing import Any

CRASH_ONCE = "__CRASH_ONCE__"
POISON = "__POISON__"
STOP_ONCE = "__STOP_ONCE__"
#: Exit status of a worker killed by a marker.
EXIT_CODE = 9


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


def faulty_qa(marker_dir: str) -> Any:
    """``question -> answer`` through ``dspy.Predict``, dying on the markers above.

    Args:
        marker_dir: an existing directory shared by every worker of the test, where
            ``__CRASH_ONCE__`` elements note that they crashed already.
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
            return self.answer(question=question)

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
