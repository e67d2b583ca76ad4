"""LM and program factories for tests, reachable through ``lm.lm_factory`` / ``program``.

``"dspex_testing.lms:dummy_lm"`` is how a test plugs ``dspy.utils.DummyLM``
into a ``predict`` setup without any server. dspy is imported inside the factories,
so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dummy_lm(answers: Mapping[str, Mapping[str, Any]] | None = None,
             default: Mapping[str, Any] | None = None) -> Any:
    """A ``DummyLM`` answering by question: ``answers`` maps a text found in the prompt
    to output field values; prompts matching none get ``default``.

    DummyLM's dict mode looks the keys up in the last message, so answers do not
    depend on the order in which concurrent elements call it.
    """
    from dspy.utils import DummyLM

    table = {str(k): dict(v) for k, v in (answers or {}).items()}
    if default is not None:
        # DummyLM's dict mode needs a key that is in every prompt; every ChatAdapter
        # prompt ends with this phrase, and dicts keep insertion order, so specific
        # keys are tried first.
        table["Respond with the corresponding output fields"] = dict(default)
    return DummyLM(table)


def half_surrogate_lm(on: str, default: Mapping[str, Any]) -> Any:
    """A ``DummyLM`` answering ``default``, except that prompts containing ``on`` get an
    ``answer`` ending in ``"\\ud83d"``: the high half of an emoji's surrogate pair, as a JSON
    API returns when the answer is cut between the halves. Python decodes it into a ``str``
    that UTF-8 cannot encode. (Built here because setup args, being UTF-8, cannot carry it.)
    """
    broken = dict(default)
    broken["answer"] = f"{default.get('answer', '')} \ud83d"
    return dummy_lm({on: broken}, default)


def failing_program(fail_on: str = "boom", lm_free: bool = False) -> Any:
    """A ``dspy.Module`` (question -> answer) that raises ``RuntimeError`` when the
    question contains ``fail_on`` and answers through its Predict otherwise.

    With ``lm_free`` it answers without the LM (``answer`` = the question upper-cased):
    the cheap path for volume tests, which still run the production ``predict``
    handler and a real module. Its Predict is then declared, never called: the worker
    reads the program's fields from it.
    """
    import dspy

    class MaybeFail(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.answer = dspy.Predict("question -> answer")

        def forward(self, question: str) -> Any:
            if fail_on in question:
                raise RuntimeError(f"program refused {question!r}")
            if lm_free:
                return dspy.Prediction(answer=question.upper())
            return self.answer(question=question)

    return MaybeFail()


def raising_metric(example: Any, pred: Any, trace: Any = None) -> bool:
    """A DSPy metric that always raises ``ZeroDivisionError`` (bad-metric tests)."""
    return bool(1 / 0)
