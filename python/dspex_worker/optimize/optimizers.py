"""DSPy's optimizers by name, and their options split between the constructor and ``compile``.

The names are the contract's (``LabeledFewShot``, ``BootstrapFewShot``,
``BootstrapFewShotWithRandomSearch``, ``MIPROv2``), matched case-insensitively. An option goes to
whichever of the class's ``__init__`` and ``compile`` takes a parameter of its name (the
constructor first); an option neither takes is refused, naming those they do take. Arguments
DSPex passes itself (the metric, the teacher LM, the seed, the thread count, the program and the
data) cannot be options: each names the setting that gives it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
from collections.abc import Mapping
from typing import Any

from dspex_worker import contract

#: The optimizer class names, as DSPy spells them.
NAMES = contract.OPTIMIZERS
#: Parameters DSPex fills in itself -> the setting (setup key) a user gives them with.
RESERVED = {
    "metric": "metric",
    "metric_threshold": "metric_threshold",
    "teacher_settings": "teacher_lm",
    "prompt_model": "teacher_lm",
    "task_model": "lm",
    "num_threads": "threads",
    "seed": "seed",
    "student": "signature or program",
    "teacher": "teacher_lm",
    "trainset": "the examples (body trainset)",
    "valset": "the examples (body trainset; the optimizer splits off its own validation set)",
}
#: Packages an optimizer needs beyond dspy itself.
_NEEDS = {"MIPROv2": "optuna"}


def canonical(name: Any) -> str:
    """The class name of optimizer ``name`` (case-insensitive).

    Raises:
        ValueError: no such optimizer.
    """
    if isinstance(name, str):
        for known in NAMES:
            if known.lower() == name.lower():
                return known
    raise ValueError(f"optimizer must be one of {', '.join(NAMES)}, was {name!r}")


def _parameters(function: Any) -> list[str]:
    return [p.name for p in inspect.signature(function).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


@dataclasses.dataclass(frozen=True)
class OptimizerPlan:
    """One optimizer and the options it was given, split by where they go.

    Attributes:
        name: the class name.
        init: options for its constructor.
        compile: options for its ``compile``.
    """

    name: str
    init: Mapping[str, Any]
    compile: Mapping[str, Any]

    def optimizer_class(self) -> type:
        """The DSPy class."""
        import dspy

        return getattr(dspy, self.name)

    def build(self, *, metric: Any, metric_threshold: float | None, teacher_lm: Any, seed: int,
              threads: int) -> Any:
        """The optimizer, given DSPex's own arguments where its constructor takes them."""
        cls = self.optimizer_class()
        takes = set(_parameters(cls.__init__))
        given: dict[str, Any] = {"metric": metric, "num_threads": threads, "seed": seed}
        if metric_threshold is not None:
            given["metric_threshold"] = metric_threshold
        if teacher_lm is not None:
            given["teacher_settings"] = {"lm": teacher_lm}
            given["prompt_model"] = teacher_lm
        return cls(**{k: v for k, v in given.items() if k in takes}, **self.init)


def plan(name: Any, options: Mapping[str, Any] | None) -> OptimizerPlan:
    """The plan for optimizer ``name`` with ``options``; checks that the optimizer can run here.

    Raises:
        ValueError: an unknown optimizer or option, or a reserved one.
        ImportError: a package the optimizer needs is not installed in the worker's environment.
    """
    import dspy

    canonical_name = canonical(name)
    if options is not None and not isinstance(options, Mapping):
        raise ValueError(f"optimizer_options must be a map of option -> value, was {options!r}")
    needed = _NEEDS.get(canonical_name)
    if needed is not None and importlib.util.find_spec(needed) is None:
        # Not in the worker lock on purpose (README, "MIPROv2 and optuna"): say how to add it.
        raise ImportError(f"{canonical_name} needs the Python package {needed!r}, which the worker's"
                          f" environment does not have: install it into the worker's Python (pip install"
                          f" {needed}), or into a directory (pip install --target DIR {needed}) given to the"
                          f" workers as withPythonPath / --python-path")
    cls = getattr(dspy, canonical_name)
    init_names = [n for n in _parameters(cls.__init__) if n not in RESERVED]
    compile_names = [n for n in _parameters(cls.compile) if n not in RESERVED and n not in init_names]
    init: dict[str, Any] = {}
    compile_options: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if key in RESERVED:
            raise ValueError(f"optimizer option {key!r} is DSPex's to set: give it as {RESERVED[key]}")
        if key in init_names:
            init[key] = value
        elif key in compile_names:
            compile_options[key] = value
        else:
            raise ValueError(f"{canonical_name} has no option {key!r}; its options are"
                             f" {sorted(init_names + compile_names)}")
    return OptimizerPlan(canonical_name, init, compile_options)
