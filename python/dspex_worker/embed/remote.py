"""Embeddings from an OpenAI-compatible endpoint, through ``dspy.Embedder``."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


class RemoteEncoder:
    """``dspy.Embedder(model, api_base=..., api_key=<$api_key_env>)`` behind the encoder API.

    Args:
        model: the litellm model name (``openai/text-embedding-3-small``; a bare name
            gets the ``openai/`` prefix, since the endpoint is OpenAI-compatible).
        api_base: the endpoint (``http://host:port/v1``).
        api_key_env: the environment variable holding the key (never the key itself).
        batch_size: texts per HTTP request.
        caching: dspy's embedding cache (off by default: vectors are cheap to refetch
            and the cache would hold every text).
    """

    def __init__(self, model: str, api_base: str | None, api_key_env: str | None,
                 batch_size: int = 200, caching: bool = False) -> None:
        import dspy

        kwargs: dict[str, Any] = {}
        if api_base is not None:
            kwargs["api_base"] = api_base
        if api_key_env is not None:
            key = os.environ.get(api_key_env)
            if not key:
                raise ValueError(f"api_key_env names {api_key_env!r}, which is not set in the worker's environment")
            kwargs["api_key"] = key
        self.model = model if "/" in model else f"openai/{model}"
        import litellm  # noqa: F401 - imported at setup (seconds), not in the first batch

        self.embedder = dspy.Embedder(self.model, batch_size=batch_size, caching=caching, **kwargs)
        self.batch_size = batch_size
        self.normalizes = False
        self.dim: int | None = None
        self.lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None,
               normalize: bool | None = None) -> np.ndarray:
        """Embeddings of ``texts`` as float32 ``(n, dim)``; raises on an endpoint error."""
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        vectors = np.asarray(self.embedder(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        self.dim = int(vectors.shape[1])
        if normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), np.float32(1e-12))
        return vectors


def remote_from_args(args: Mapping[str, Any]) -> RemoteEncoder:
    """A :class:`RemoteEncoder` from setup args ``{model, api_base, api_key_env, batch_size?}``."""
    model = args.get("model")
    if not isinstance(model, str) or not model:
        raise ValueError("setup embed with backend 'openai' needs 'model'")
    return RemoteEncoder(model, args.get("api_base"), args.get("api_key_env"),
                         int(args.get("batch_size") or 200), bool(args.get("cache", False)))
