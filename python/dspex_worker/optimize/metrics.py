"""The metric an optimizer scores predictions with, over the examples' label fields.

The built-in metrics are ``dspex trainset``'s (:mod:`dspex_worker.trainset`): ``exact`` and
``contains`` compare a prediction's label fields with the example's, and accept when every label
field matches; ``module:function`` is a DSPy metric ``function(example, pred, trace=None)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dspex_worker import contract, trainset

Metric = trainset.Metric


def build_metric(name: Any, label_fields: Sequence[str]) -> Metric:
    """The metric named ``name`` over ``label_fields``.

    Raises:
        ValueError: a bad name, or no label fields for a built-in metric.
        ImportError, AttributeError, TypeError: a ``module:function`` that does not load.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"metric must be one of {contract.BUILTIN_METRICS} or 'module:function', was {name!r}")
    if name not in contract.BUILTIN_METRICS:
        return trainset.load_metric(name, label_fields[0] if label_fields else "")
    if not label_fields:
        raise ValueError(f"metric {name!r} compares label fields, and label_fields is empty")
    parts = [trainset.load_metric(name, field) for field in label_fields]
    if len(parts) == 1:
        return parts[0]

    def every_label(example: Any, pred: Any, trace: Any = None) -> bool:
        return all(part(example, pred, trace) for part in parts)

    return every_label
