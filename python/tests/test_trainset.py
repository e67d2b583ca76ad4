"""The trainset labelling program (dspex_worker.trainset), run as the predict handler runs it.

DSPy's DummyLM stands in for the LM: it answers in order, so each test knows what the
teacher says and checks the verdict the metric gives.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import dspy
import pytest
from dspy.utils.dummies import DummyLM

from dspex_worker.predict.program import build_program
from dspex_worker.predict.runner import PredictHandle
from dspex_worker.trainset import (
    ACCEPTED_FIELD,
    GOLD_FIELD,
    SCORE_FIELD,
    build,
    input_names,
    verdict,
)


def _run(module: Any, answers: list[dict[str, str]], **fields: Any) -> Any:
    with dspy.context(lm=DummyLM(answers)):
        return module(**fields)


def test_the_worker_describes_inputs_with_the_gold_label_and_outputs_with_the_verdict() -> None:
    _, inputs, outputs = build_program({
        "program": "dspex_worker.trainset:build",
        "program_args": {"teacher": "question, context -> answer", "metric": "exact", "label_field": "answer"},
    })
    assert [f["name"] for f in inputs] == ["question", "context", GOLD_FIELD]
    assert [(f["name"], f["type"]) for f in outputs] == [
        ("answer", "str"), (ACCEPTED_FIELD, "bool"), (SCORE_FIELD, "float")]


def test_exact_accepts_an_answer_equal_after_normalisation_and_rejects_another() -> None:
    module = build("question -> answer", "exact", "answer")
    ok = _run(module, [{"answer": "The Paris."}], question="Capital of France?", **{GOLD_FIELD: "paris"})
    assert ok.answer == "The Paris."
    assert ok[ACCEPTED_FIELD] is True and ok[SCORE_FIELD] == 1.0
    bad = _run(module, [{"answer": "Lyon"}], question="Capital of France?", **{GOLD_FIELD: "Paris"})
    assert bad[ACCEPTED_FIELD] is False and bad[SCORE_FIELD] == 0.0


def test_contains_accepts_a_longer_answer_holding_the_label() -> None:
    module = build("question -> answer", "contains", "answer")
    ok = _run(module, [{"answer": "It is Paris, of course"}], question="q", **{GOLD_FIELD: "paris"})
    bad = _run(module, [{"answer": "Lyon"}], question="q", **{GOLD_FIELD: "paris"})
    assert ok[ACCEPTED_FIELD] is True
    assert bad[ACCEPTED_FIELD] is False


def test_a_user_metric_gets_an_example_of_inputs_and_label_and_a_threshold_applies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_metrics.py").write_text(textwrap.dedent("""
        seen = []

        def overlap(example, pred, trace=None):
            seen.append((dict(example.inputs()), example.answer))
            gold = set(example.answer.lower().split())
            got = set(pred.answer.lower().split())
            return len(gold & got) / len(gold)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("my_metrics", None)
    module = build("question -> answer", "my_metrics:overlap", "answer", threshold=0.5)
    half = _run(module, [{"answer": "red apple"}], question="q1", **{GOLD_FIELD: "red pear"})
    none = _run(module, [{"answer": "blue"}], question="q2", **{GOLD_FIELD: "red pear"})
    assert half[ACCEPTED_FIELD] is True and half[SCORE_FIELD] == 0.5
    assert none[ACCEPTED_FIELD] is False and none[SCORE_FIELD] == 0.0
    import my_metrics
    assert my_metrics.seen[0] == ({"question": "q1"}, "red pear")


def test_a_label_field_that_the_teacher_does_not_output_is_refused() -> None:
    with pytest.raises(ValueError, match="not an output of the teacher"):
        build("question -> response", "exact", "answer")


def test_an_unknown_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="metric must be one of"):
        build("question -> answer", "fuzzy", "answer")


def test_a_program_teacher_with_saved_state_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_teacher.py").write_text(textwrap.dedent("""
        import dspy

        def make():
            return dspy.ChainOfThought("question -> answer")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("my_teacher", None)
    import my_teacher
    saved = my_teacher.make()
    saved.predict.signature = saved.predict.signature.with_instructions("Answer in one word.")
    state = tmp_path / "state.json"
    saved.save(str(state))
    module = build("my_teacher:make", "exact", "answer", program_state=str(state))
    assert module.teacher.predict.signature.instructions == "Answer in one word."
    assert input_names(module) == ["question"]
    out = _run(module, [{"reasoning": "r", "answer": "Paris"}], question="q", **{GOLD_FIELD: "Paris"})
    assert out[ACCEPTED_FIELD] is True and "reasoning" in out


def test_the_predict_handle_runs_it_and_the_records_load_as_dspy_examples() -> None:
    module, inputs, outputs = build_program({
        "program": "dspex_worker.trainset:build",
        "program_args": {"teacher": "question -> answer", "metric": "exact", "label_field": "answer"},
    })
    lm = DummyLM([{"answer": "Paris"}, {"answer": "Rome"}])
    handle = PredictHandle(module, lm, inputs, outputs, threads=1)
    results: list[Any] = []
    records = [{"question": "France?", GOLD_FIELD: "Paris"}, {"question": "Spain?", GOLD_FIELD: "Madrid"}]
    handle.run(records, results.extend)
    by_index = {o.index: o.output for o in results}
    assert by_index[0][ACCEPTED_FIELD] is True and by_index[1][ACCEPTED_FIELD] is False
    # What dspex trainset writes for an accepted record: inputs plus the teacher's outputs.
    written = {"question": records[0]["question"], "answer": by_index[0]["answer"]}
    example = dspy.Example(**json.loads(json.dumps(written))).with_inputs("question")
    assert example.inputs().toDict() == {"question": "France?"}
    assert example.labels().toDict() == {"answer": "Paris"}


def test_a_bool_result_is_the_verdict_whatever_the_threshold() -> None:
    assert verdict(True, 0.9) is True
    assert verdict(0.7, None) is True
    assert verdict(0.7, 0.9) is False
    assert verdict(0, None) is False
