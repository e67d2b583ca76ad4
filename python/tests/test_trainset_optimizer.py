"""A training set written by ``dspex trainset``, loaded by DSPy and compiled into demos.

The file under test is ``$DSPEX_TRAINSET`` when set (the end-to-end test ``TrainsetCommandIT``
runs ``./dspex trainset`` and then this module on the fresh output), else the committed
``testdata/trainset/qa_trainset.jsonl`` (made by the real command; see the README beside it).

The format, as the command writes it: one JSON object a line, the teacher's input fields and
output fields (the label field holding the accepted answer), and a sidecar
``<output>.inputs.json`` that lists which keys are inputs, so that
``dspy.Example(**record).with_inputs(*inputs)`` needs no guessing. DSPy's ``DummyLM`` stands in
for the LM.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dspy
import pytest
from dspy.teleprompt import BootstrapFewShot, LabeledFewShot
from dspy.utils.dummies import DummyLM

from dspex_testing.client import PYTHON_ROOT

COMMITTED = PYTHON_ROOT.parent / "testdata" / "trainset" / "qa_trainset.jsonl"


def trainset_path() -> Path:
    """The trainset under test: ``$DSPEX_TRAINSET``, else the committed one."""
    given = os.environ.get("DSPEX_TRAINSET")
    return Path(given) if given else COMMITTED


def read_trainset(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The records of a trainset and its ``.inputs.json`` sidecar, exactly as written."""
    sidecar = path.with_name(path.name + ".inputs.json")
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return records, meta


@pytest.fixture(scope="module")
def trainset() -> tuple[list[dspy.Example], dict[str, Any]]:
    """The file's records as ``dspy.Example``s with their inputs marked, and the sidecar."""
    records, meta = read_trainset(trainset_path())
    return [dspy.Example(**record).with_inputs(*meta["inputs"]) for record in records], meta


def student(meta: dict[str, Any]) -> dspy.Predict:
    """A fresh program with the trainset's fields: its inputs -> its outputs."""
    return dspy.Predict(f"{', '.join(meta['inputs'])} -> {', '.join(meta['outputs'])}")


def as_pair(example: dspy.Example, meta: dict[str, Any]) -> tuple[Any, ...]:
    """An example's input and output values, in the sidecar's order."""
    return tuple(example[name] for name in [*meta["inputs"], *meta["outputs"]])


def test_the_file_loads_as_dspy_examples_with_the_written_inputs(
    trainset: tuple[list[dspy.Example], dict[str, Any]],
) -> None:
    examples, meta = trainset
    assert len(examples) >= 8, f"{trainset_path()} holds {len(examples)} records"
    assert meta["label_field"] in meta["outputs"]
    for example in examples:
        assert set(example.inputs().keys()) == set(meta["inputs"])
        assert set(example.labels().keys()) == set(meta["outputs"])
        assert all(isinstance(example[name], str) and example[name] for name in meta["inputs"])


def test_labeled_few_shot_compiles_demos_taken_from_the_file(
    trainset: tuple[list[dspy.Example], dict[str, Any]],
) -> None:
    examples, meta = trainset
    compiled = LabeledFewShot(k=4).compile(student(meta), trainset=examples)
    demos = compiled.predictors()[0].demos
    written = {as_pair(e, meta) for e in examples}
    assert len(demos) == 4
    assert all(as_pair(d, meta) in written for d in demos), demos
    # The demos reach the prompt: a DummyLM that answers from the prompt's examples
    # repeats the demo's label for the demo's own input.
    demo = demos[0]
    lm = DummyLM([{name: "not from a demo" for name in meta["outputs"]}], follow_examples=True)
    with dspy.context(lm=lm):
        prediction = compiled(**demo.inputs())
    label = meta["label_field"]
    assert prediction[label] == demo[label]


def test_bootstrap_few_shot_keeps_the_examples_its_metric_accepts(
    trainset: tuple[list[dspy.Example], dict[str, Any]],
) -> None:
    examples, meta = trainset
    label = meta["label_field"]
    first_input = meta["inputs"][0]
    # The teacher LM answers each training input with its written label, except one it gets
    # wrong, which the metric must leave out of the bootstrapped demos.
    wrong = examples[1]
    answers = {e[first_input]: {name: e[name] for name in meta["outputs"]} for e in examples}
    answers[wrong[first_input]] = {**answers[wrong[first_input]], label: "certainly not this"}

    def exact(example: dspy.Example, prediction: dspy.Prediction, trace: Any = None) -> bool:
        return bool(example[label] == prediction[label])

    optimizer = BootstrapFewShot(metric=exact, max_bootstrapped_demos=3, max_labeled_demos=3,
                                 max_rounds=1)
    with dspy.context(lm=DummyLM(answers)):
        compiled = optimizer.compile(student(meta), trainset=examples)
    demos = compiled.predictors()[0].demos
    written = {as_pair(e, meta) for e in examples}
    bootstrapped = [d for d in demos if d.get("augmented")]
    assert len(bootstrapped) == 3, demos
    assert all(as_pair(d, meta) in written for d in demos), demos
    assert wrong[first_input] not in {d[first_input] for d in bootstrapped}
