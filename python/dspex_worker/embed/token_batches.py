"""Length-sorted sub-batches: a request's texts sorted by token count, padded per sub-batch.

A request of 64 verses with one 250-token text padded as one batch would run 64 x 250
positions through the encoder, most of them padding. Sorted by length, each sub-batch of at
most ``batch_size`` texts is padded only to its own longest text, so a long text pads its
few neighbours of similar length instead of the whole request. Padding never changes a
text's vector (the attention mask zeroes it out), so the order is free to choose.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indexes into ``lengths``, longest first, cut into runs of at most ``batch_size``.

    The sort is stable, so equal lengths keep their input order and the plan is the same
    for the same input.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, was {batch_size}")
    order = sorted(range(len(lengths)), key=lambda index: -lengths[index])
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


def padded(encodings: Sequence[Any], indexes: Sequence[int], pad_id: int) -> tuple[np.ndarray, ...]:
    """``(input_ids, token_type_ids, attention_mask)`` int64 arrays of the chosen encodings,
    each row padded with ``pad_id`` (mask 0, type 0) to the longest of them."""
    width = max(len(encodings[index].ids) for index in indexes)
    ids = np.full((len(indexes), width), pad_id, dtype=np.int64)
    type_ids = np.zeros((len(indexes), width), dtype=np.int64)
    mask = np.zeros((len(indexes), width), dtype=np.int64)
    for row, index in enumerate(indexes):
        encoding = encodings[index]
        length = len(encoding.ids)
        ids[row, :length] = encoding.ids
        type_ids[row, :length] = encoding.type_ids
        mask[row, :length] = 1
    return ids, type_ids, mask


def sub_batches(encodings: Sequence[Any], batch_size: int,
                pad_id: int) -> Iterator[tuple[list[int], tuple[np.ndarray, ...]]]:
    """Each sub-batch's indexes (into ``encodings``) with its padded arrays (:func:`padded`)."""
    for indexes in length_sorted_batches([len(e.ids) for e in encodings], batch_size):
        yield indexes, padded(encodings, indexes, pad_id)
