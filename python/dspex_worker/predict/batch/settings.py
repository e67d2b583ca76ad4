"""Batch mode's settings: setup's ``batch_api`` map (docs/protocol.md, section 9.9.1)."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from typing import Any

from dspex_worker import contract

#: Providers whose batch API batch mode runs.
PROVIDERS = ("openai",)
#: OpenAI's limits on one batch: requests, and bytes of its input file.
OPENAI_MAX_REQUESTS = 50_000
OPENAI_MAX_BYTES = 200 * 1000 * 1000
#: The keys of the ``batch_api`` map.
KEYS = contract.SETUP_KEYS["batch_api"]


@dataclasses.dataclass(frozen=True)
class BatchApiSettings:
    """How a handle submits and waits for batches.

    Attributes:
        provider: whose Batch API (``openai``: OpenAI's, or a server with its shape).
        poll_interval_s: between two status reads of a batch in progress.
        timeout_s: the longest the worker waits for a round's batches to end; the elements still
            waiting then fail as ``BatchTimeout`` (their batch stays recorded, so a re-run picks
            it up).
        max_requests_per_batch: requests in one batch (a request's elements beyond it go into
            further batches, submitted together).
        max_batch_bytes: bytes of one batch's input file.
        max_rounds: LM calls one element may make one after another (each a round of batches:
            a ``Predict`` makes one, a parse failure's JSONAdapter retry a second, each further
            predictor of a program one more); an element needing more fails as
            ``BatchRoundsExceeded``.
        state_file: where the submitted batches are recorded (``<output>.batches.json``), or
            None for nowhere: a killed job then cannot pick its batches up.
    """

    provider: str = "openai"
    poll_interval_s: float = 30.0
    timeout_s: float = 24 * 3600.0
    max_requests_per_batch: int = 1000
    max_batch_bytes: int = 100 * 1000 * 1000
    max_rounds: int = 4
    state_file: str | None = None

    @classmethod
    def from_setup(cls, spec: Any) -> BatchApiSettings:
        """The settings of setup's ``batch_api`` map; every key is optional.

        Raises:
            ValueError: an unknown key, or a value out of range (named with its key).
        """
        if not isinstance(spec, Mapping):
            raise ValueError(f"batch_api must be a map of settings, was {spec!r}")
        unknown = set(spec) - KEYS
        if unknown:
            raise ValueError(f"unknown batch_api keys {sorted(unknown)}; known: {sorted(KEYS)}")
        defaults = cls()
        provider = spec.get("provider", defaults.provider)
        if provider not in PROVIDERS:
            raise ValueError(f"batch_api.provider must be one of {list(PROVIDERS)}, was {provider!r}"
                             " (Anthropic's Message Batches are not supported yet)")
        state_file = spec.get("state_file")
        if state_file is not None:
            if not isinstance(state_file, str) or not state_file:
                raise ValueError(f"batch_api.state_file must be a file path, was {state_file!r}")
            parent = os.path.dirname(os.path.abspath(state_file))
            if not os.path.isdir(parent):
                raise ValueError(f"batch_api.state_file {state_file!r}: its folder {parent!r} does not exist")
            state_file = os.path.abspath(state_file)
        return cls(
            provider=provider,
            poll_interval_s=_seconds(spec, "poll_interval_s", defaults.poll_interval_s),
            timeout_s=_seconds(spec, "timeout_s", defaults.timeout_s),
            max_requests_per_batch=_count(spec, "max_requests_per_batch", defaults.max_requests_per_batch,
                                          OPENAI_MAX_REQUESTS),
            max_batch_bytes=_count(spec, "max_batch_bytes", defaults.max_batch_bytes, OPENAI_MAX_BYTES),
            max_rounds=_count(spec, "max_rounds", defaults.max_rounds, 100),
            state_file=state_file,
        )

    def described(self) -> dict[str, Any]:
        """The settings as plain values, for the setup result."""
        return dataclasses.asdict(self)


def _seconds(spec: Mapping[str, Any], key: str, default: float) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"batch_api.{key} must be a positive number of seconds, was {value!r}")
    return float(value)


def _count(spec: Mapping[str, Any], key: str, default: int, limit: int) -> int:
    value = spec.get(key, default)
    if type(value) is not int or not 1 <= value <= limit:
        raise ValueError(f"batch_api.{key} must be an integer in 1..{limit}, was {value!r}")
    return value
