"""Labelling inputs with a teacher program and keeping what a metric accepts.

``dspex trainset`` runs ``build(...)`` through the ordinary ``predict`` handler
(``DSPexPredict.ofProgram("dspex_worker.trainset:build").withProgramArgs(...)``),
so one code path serves every metric. The built module's ``forward`` runs the
teacher on the input fields only, scores its prediction against the gold label
(field :data:`GOLD_FIELD`) with the metric, and returns the teacher's outputs plus
:data:`ACCEPTED_FIELD` and :data:`SCORE_FIELD`.

Metrics:

- ``exact``: DSPy's normalised exact match (``dspy.evaluate.metrics.EM``: case,
  punctuation and articles ignored);
- ``contains``: the normalised gold label occurs in the normalised prediction;
- ``module:function``: a DSPy metric ``function(example, pred, trace=None)``; the
  example holds the inputs and the gold label under ``label_field``. A bool result
  is the verdict; a number is accepted when truthy, or with ``threshold`` when at
  least that.

The worker describes a program by its predictors (inputs: fields no predictor
produces; outputs: the last predictor's), so the module keeps a never-called
``dspy.Predict`` last, whose signature is exactly what it takes and returns.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from dspex_worker import contract

#: Input field carrying the gold label (the Java side renames the label column to it).
GOLD_FIELD = "dspex_gold"
#: Output field: whether the metric accepted the teacher's prediction.
ACCEPTED_FIELD = "dspex_accepted"
#: Output field: the metric's score as a float.
SCORE_FIELD = "dspex_score"
#: The built-in metrics.
BUILTIN_METRICS = contract.BUILTIN_METRICS

Metric = Callable[..., Any]


def _normalize(text: Any) -> str:
    from dspy.evaluate.metrics import normalize_text

    return normalize_text("" if text is None else str(text))


def exact(label_field: str) -> Metric:
    """DSPy-style normalised exact match of ``pred[label_field]`` against the gold label."""

    def metric(example: Any, pred: Any, trace: Any = None) -> bool:
        from dspy.evaluate.metrics import EM

        gold = example[label_field]
        golds = gold if isinstance(gold, list) else [gold]
        return bool(EM(str(pred.get(label_field) or ""), [str(g) for g in golds]))

    return metric


def contains(label_field: str) -> Metric:
    """The normalised gold label is contained in the normalised prediction."""

    def metric(example: Any, pred: Any, trace: Any = None) -> bool:
        gold = _normalize(example[label_field])
        return bool(gold) and gold in _normalize(pred.get(label_field))

    return metric


def load_metric(metric: str, label_field: str) -> Metric:
    """The metric named ``exact``, ``contains`` or ``module:function``."""
    from dspex_worker.predict.lm import load_object

    if metric == "exact":
        return exact(label_field)
    if metric == "contains":
        return contains(label_field)
    if ":" not in metric:
        raise ValueError(f"metric must be one of {BUILTIN_METRICS} or 'module:function', was {metric!r}")
    function = load_object(metric, "metric")
    if not callable(function):
        raise TypeError(f"metric {metric!r} is not callable")
    return function


def load_teacher(teacher: str, program_state: str | None = None) -> Any:
    """A ``dspy.Predict`` of a signature (``"question -> answer"``), or a ``module:factory`` program."""
    import dspy

    from dspex_worker.predict.lm import load_object

    if "->" in teacher:
        program = dspy.Predict(dspy.Signature(teacher))
    else:
        program = load_object(teacher, "teacher")()
        if not isinstance(program, dspy.Module):
            raise TypeError(f"teacher {teacher!r} returned {type(program).__name__}, not a dspy.Module")
    if program_state is not None:
        if not os.path.isfile(program_state):
            raise ValueError(f"program_state {program_state!r} is not a file (a program.save(path) JSON)")
        program.load(program_state)
    return program


def teacher_fields(teacher: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The teacher's input and output fields (name -> FieldInfo), chosen as the worker describes programs."""
    from dspex_worker.predict.fields import program_fields

    signatures = [p.signature for p in teacher.predictors()]
    inputs, outputs = program_fields(signatures)
    declared: dict[str, Any] = {}
    for sig in reversed(signatures):
        declared.update(sig.input_fields)
    return ({f["name"]: declared[f["name"]] for f in inputs},
            {f["name"]: signatures[-1].output_fields[f["name"]] for f in outputs})


def _schema_signature(inputs: dict[str, Any], outputs: dict[str, Any], gold_type: Any) -> Any:
    import dspy
    from dspy.signatures.signature import make_signature

    fields: dict[str, Any] = {}
    for name, info in inputs.items():
        fields[name] = (info.annotation, dspy.InputField())
    fields[GOLD_FIELD] = (gold_type, dspy.InputField())
    for name, info in outputs.items():
        fields[name] = (info.annotation, dspy.OutputField())
    fields[ACCEPTED_FIELD] = (bool, dspy.OutputField())
    fields[SCORE_FIELD] = (float, dspy.OutputField())
    return make_signature(fields)


def build(
    teacher: str,
    metric: str,
    label_field: str,
    program_state: str | None = None,
    threshold: float | None = None,
) -> Any:
    """The labelling module (see the module docstring).

    Raises:
        ValueError: ``label_field`` is not an output of the teacher, or a bad metric.
    """
    import dspy

    program = load_teacher(teacher, program_state)
    inputs, outputs = teacher_fields(program)
    if label_field not in outputs:
        raise ValueError(f"label field {label_field!r} is not an output of the teacher {teacher!r};"
                         f" its outputs are {list(outputs)}")
    if label_field in inputs:
        raise ValueError(f"label field {label_field!r} is an input of the teacher {teacher!r}")
    score_fn = load_metric(metric, label_field)
    schema = _schema_signature(inputs, outputs, outputs[label_field].annotation)

    class TrainsetLabeler(dspy.Module):
        """Runs the teacher, scores it against the gold label, returns outputs and verdict."""

        def __init__(self) -> None:
            super().__init__()
            self.teacher = program
            # Last predictor: describes the fields; never called.
            self.fields = dspy.Predict(schema)

        def forward(self, **fields: Any) -> Any:
            gold = fields[GOLD_FIELD]
            given = {name: fields[name] for name in inputs}
            prediction = self.teacher(**given)
            example = dspy.Example(**given, **{label_field: gold}).with_inputs(*inputs)
            score = score_fn(example, prediction, None)
            accepted = verdict(score, threshold)
            answers = {name: prediction.get(name) for name in outputs}
            return dspy.Prediction(**answers, **{ACCEPTED_FIELD: accepted, SCORE_FIELD: as_score(score)})

    return TrainsetLabeler()


def verdict(score: Any, threshold: float | None) -> bool:
    """Whether a metric result accepts: a bool as is, a number truthy or at least ``threshold``."""
    if isinstance(score, bool) or threshold is None:
        return bool(score)
    return float(score) >= threshold


def as_score(score: Any) -> float:
    """A metric result as a float (True 1.0, False 0.0)."""
    try:
        return float(score)
    except (TypeError, ValueError):
        return 1.0 if score else 0.0


def input_names(module: Any) -> Sequence[str]:
    """The input fields of a built module, gold label excluded (what ``with_inputs`` takes)."""
    return [name for name in module.fields.signature.input_fields if name != GOLD_FIELD]
