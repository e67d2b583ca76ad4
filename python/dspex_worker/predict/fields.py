"""Describing a DSPy program's input and output fields for the Java side.

Java maps each field's ``type`` string to a Beam schema type (str -> STRING,
int -> INT64, float -> DOUBLE, bool -> BOOLEAN, list[str] -> ARRAY<STRING>), so the
names here are a small closed set: ``str``, ``int``, ``float``, ``bool``,
``list[str]``, ``list[int]``, ``list[float]``, ``list[bool]``, and ``json`` for
anything else (dicts, pydantic models, nested lists: the value travels as plain
data). A ``Literal[...]`` is a ``str`` with its ``values`` listed.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

_SCALARS: dict[Any, str] = {str: "str", int: "int", float: "float", bool: "bool"}


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """``Optional[X]`` / ``X | None`` -> ``(X, True)``; anything else -> ``(it, False)``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def describe_type(annotation: Any) -> dict[str, Any]:
    """``{type, values?, nullable?}`` for one field annotation."""
    inner, nullable = _strip_optional(annotation)
    described: dict[str, Any]
    origin = typing.get_origin(inner)
    if inner in _SCALARS:
        described = {"type": _SCALARS[inner]}
    elif origin is typing.Literal:
        values = list(typing.get_args(inner))
        kind = {type(v) for v in values}
        described = {"type": _SCALARS.get(kind.pop(), "json") if len(kind) == 1 else "json",
                     "values": values}
    elif origin is list and len(typing.get_args(inner)) == 1 and typing.get_args(inner)[0] in _SCALARS:
        described = {"type": f"list[{_SCALARS[typing.get_args(inner)[0]]}]"}
    else:
        described = {"type": "json"}
    if nullable:
        described["nullable"] = True
    return described


def describe_fields(fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``[{name, type, ...}]`` for a signature's ``input_fields`` or ``output_fields``."""
    return [{"name": name, **describe_type(field.annotation)} for name, field in fields.items()]


def program_fields(signatures: Iterable[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Inputs and outputs of a program made of predictors with these signatures, in order.

    Inputs: every predictor input that no predictor produces (the program's own
    inputs, in first-seen order). Outputs: the last predictor's outputs (what a
    pipeline of stages finally returns); a program that returns something else
    should be wrapped so that its last predictor's fields are what it returns.
    """
    signatures = list(signatures)
    if not signatures:
        raise ValueError("the program has no predictors, so its fields cannot be described")
    produced = {name for sig in signatures for name in sig.output_fields}
    inputs: dict[str, Any] = {}
    for sig in signatures:
        for name, field in sig.input_fields.items():
            if name not in produced and name not in inputs:
                inputs[name] = field
    return describe_fields(inputs), describe_fields(signatures[-1].output_fields)


def plain_value(value: Any, type_name: str) -> Any:
    """An output value as plain data the codecs carry (floats as float, models as dicts)."""
    if value is None:
        return None
    if type_name == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if type_name == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [plain_value(v, type_name[5:-1] if type_name.startswith("list[") else "json")
                for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain_value(v, "json") for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
