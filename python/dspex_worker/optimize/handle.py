"""What ``setup`` kind ``optimize`` loads: the program to compile, its LMs, the metric and the
optimizer's plan, each checked now so that a bad setting fails the setup, not the compile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dspex_worker.optimize.optimizers import OptimizerPlan

#: LM calls in flight during a compile (the optimizer's and dspy.Evaluate's threads).
DEFAULT_THREADS = 8


@dataclasses.dataclass
class OptimizeHandle:
    """A program ready to compile.

    Attributes:
        program: the uncompiled program (each compile starts from a copy).
        lm: the student LM (the program's own, while compiling and evaluating).
        teacher_lm: the LM of bootstrapping and instruction proposals; None: the student's.
        inputs, outputs: the program's fields, as ``predict`` describes them.
        label_fields: the outputs the examples carry (what the metric compares).
        metric, metric_name, metric_threshold: the metric, its name and DSPy's threshold.
        optimizer: the optimizer and its options.
        seed, threads: the optimizer's seed and thread count.
        compile_timeout_s: the longest a compile may take; None: no limit.
        recorder: writes every LM call into the worker's usage ledger (none: not written).
    """

    program: Any
    lm: Any
    teacher_lm: Any
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    label_fields: list[str]
    metric: Any
    metric_name: str
    metric_threshold: float | None
    optimizer: OptimizerPlan
    seed: int
    threads: int
    compile_timeout_s: float | None
    recorder: Any = None

    @property
    def input_names(self) -> list[str]:
        """The program's input field names."""
        return [field["name"] for field in self.inputs]


def _number(args: Mapping[str, Any], key: str, positive: bool) -> float | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (positive and not value > 0):
        raise ValueError(f"{key} must be a {'positive ' if positive else ''}number, was {value!r}")
    return float(value)


def _label_fields(args: Mapping[str, Any], outputs: list[dict[str, Any]]) -> list[str]:
    names = [field["name"] for field in outputs]
    given = args.get("label_fields")
    if given is None:
        return names
    if not isinstance(given, list) or not given or not all(isinstance(g, str) and g for g in given):
        raise ValueError(f"label_fields must be a non-empty list of output field names, was {given!r}")
    unknown = [g for g in given if g not in names]
    if unknown:
        raise ValueError(f"label_fields {unknown} are not outputs of the program; its outputs are {names}")
    return list(given)


def load_handle(args: Mapping[str, Any]) -> OptimizeHandle:
    """The handle for ``setup`` args (see docs/protocol.md, ``optimize``).

    Raises:
        ValueError, TypeError, ImportError: a bad setting, named.
    """
    from dspex_worker import usage_ledger
    from dspex_worker.optimize import metrics, optimizers
    from dspex_worker.predict.lm import build_lm
    from dspex_worker.predict.program import build_program
    from dspex_worker.predict.runner import check_threads
    from dspex_worker.predict.usage import LedgerRecorder

    for key in ("lm", "teacher_lm"):
        if key in args and not isinstance(args[key], Mapping):
            raise ValueError(f"setup optimize needs '{key}': {{model, api_base?, api_key_env?, ...}} or {{lm_factory}}")
    if "lm" not in args:
        raise ValueError("setup optimize needs 'lm': {model, api_base?, api_key_env?, ...} or {lm_factory}")
    plan = optimizers.plan(args.get("optimizer"), args.get("optimizer_options"))
    threads = check_threads(args.get("threads", DEFAULT_THREADS), "threads")
    seed = args.get("seed", 0)
    if type(seed) is not int:
        raise ValueError(f"seed must be an integer, was {seed!r}")
    threshold = _number(args, "metric_threshold", positive=False)
    timeout = _number(args, "compile_timeout_s", positive=True)
    program, inputs, outputs = build_program(args)
    label_fields = _label_fields(args, outputs)
    metric_name = args.get("metric", "exact")
    metric = metrics.build_metric(metric_name, label_fields)
    lm, _ = build_lm(args["lm"])
    teacher_lm = build_lm(args["teacher_lm"])[0] if args.get("teacher_lm") is not None else None
    ledger = usage_ledger.current()
    return OptimizeHandle(program, lm, teacher_lm, inputs, outputs, label_fields, metric, metric_name,
                          threshold, plan, seed, threads, timeout,
                          LedgerRecorder(ledger) if ledger is not None else None)
