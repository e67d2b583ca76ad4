"""Building the DSPy program a ``predict`` handle runs.

Either a signature string (``"question, context: list[str] -> answer, confidence:
float"``) run by ``dspy.Predict`` or ``dspy.ChainOfThought``, or a user program
``"module:factory"`` whose factory returns a ``dspy.Module``, importable from the
directories in ``python_path``. Either may load a state saved with
``program.save(path)`` (JSON).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from dspex_worker.predict.fields import describe_fields, program_fields
from dspex_worker.predict.lm import load_object

#: ``predictor`` values for signature programs.
PREDICTORS = ("predict", "chain_of_thought")

_path_lock = threading.Lock()


def add_python_path(paths: Sequence[str] | None) -> None:
    """Put ``paths`` at the front of ``sys.path`` (once each), so user modules import."""
    if paths is None:
        return
    if not isinstance(paths, (list, tuple)) or not all(isinstance(p, str) and p for p in paths):
        raise ValueError(f"python_path must be a list of directories, was {paths!r}")
    with _path_lock:
        for path in reversed([os.path.abspath(p) for p in paths]):
            if not os.path.isdir(path):
                raise ValueError(f"python_path entry {path!r} is not a directory")
            if path not in sys.path:
                sys.path.insert(0, path)


def build_program(args: Mapping[str, Any]) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """The program for setup ``args``, with its input and output field descriptions.

    Raises:
        ValueError: neither or both of ``signature`` and ``program``, a bad predictor,
            a state file that does not exist.
        TypeError: the factory did not return a ``dspy.Module``.
    """
    import dspy

    signature, program_spec = args.get("signature"), args.get("program")
    if (signature is None) == (program_spec is None):
        raise ValueError("setup predict needs exactly one of 'signature' and 'program'")
    if signature is not None:
        if not isinstance(signature, str) or "->" not in signature:
            raise ValueError(f"signature must be a string like 'question -> answer', was {signature!r}")
        predictor = args.get("predictor", "predict")
        if predictor not in PREDICTORS:
            raise ValueError(f"predictor must be one of {PREDICTORS}, was {predictor!r}")
        sig = dspy.Signature(signature, args.get("instructions"))
        program = dspy.Predict(sig) if predictor == "predict" else dspy.ChainOfThought(sig)
    else:
        add_python_path(args.get("python_path"))
        factory = load_object(program_spec, "program")
        program = factory(**dict(args.get("program_args") or {}))
        if not isinstance(program, dspy.Module):
            raise TypeError(f"program {program_spec!r} returned {type(program).__name__}, not a dspy.Module")
    state = args.get("program_state")
    if state is not None:
        if not isinstance(state, str) or not os.path.isfile(state):
            raise ValueError(f"program_state {state!r} is not a file (a program.save(path) JSON)")
        program.load(state)
    if signature is not None:
        predictor_sig = program.predictors()[-1].signature
        inputs = describe_fields(predictor_sig.input_fields)
        outputs = describe_fields(predictor_sig.output_fields)
    else:
        inputs, outputs = program_fields(p.signature for p in program.predictors())
    return program, inputs, outputs
