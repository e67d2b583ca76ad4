"""The request's example bodies as ``dspy.Example``s, inputs marked.

A body is a list of records (JSON, MessagePack, or an Arrow table; directly or by REF) holding
the program's input fields and the label fields; other keys are left out of the examples. The
Java side splits off records that lack a field before it sends them, so a record that lacks one
here fails the request, naming the body, the record and the fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def to_examples(records: Any, inputs: Sequence[str], labels: Sequence[str], body: str) -> list[Any]:
    """``dspy.Example(**record).with_inputs(*inputs)`` for every record, keeping only the fields.

    Raises:
        ValueError: the body is not a list of records, or a record lacks a field (or holds null).
    """
    import dspy

    if not isinstance(records, list):
        raise ValueError(f"body {body!r} must be a list of example records, was {type(records).__name__}")
    names = [*inputs, *[label for label in labels if label not in inputs]]
    examples = []
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise ValueError(f"body {body!r}: example {index} is {type(record).__name__}, not a record")
        missing = [name for name in names if record.get(name) is None]
        if missing:
            raise ValueError(f"body {body!r}: example {index} lacks {', '.join(map(repr, missing))}"
                             f" (null or missing); an example holds {names}")
        examples.append(dspy.Example(**{name: record[name] for name in names}).with_inputs(*inputs))
    return examples
