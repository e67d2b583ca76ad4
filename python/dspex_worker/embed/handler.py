"""The ``embed`` setup kind and handler (contract: docs/protocol.md, section 9.9.3).

Nothing heavy is imported here: numpy, tokenizers, safetensors and dspy are
imported by the setup loader, so registering costs nothing at ``hello``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dspex_worker.handlers import Context, Loaded, Registry, Reply
from dspex_worker.offline import apply_offline_env
from dspex_worker.protocol import headers
from dspex_worker.protocol.negotiation import versions

#: Keys ``setup`` kind ``embed`` understands (besides ``kind``).
SETUP_KEYS = frozenset({
    "backend", "model", "normalize", "batch_size", "max_seq_length", "api_base", "api_key_env",
    "cache",
})
BACKENDS = ("minilm", "openai")


@dataclasses.dataclass
class EmbedHandle:
    """What ``setup`` kind ``embed`` loads: an encoder and its defaults."""

    encoder: Any
    backend: str
    normalize: bool
    batch_size: int


def _positive_int(args: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = args.get(key, default)
    if value is not None and (type(value) is not int or value < 1):
        raise ValueError(f"{key} must be a positive integer, was {value!r}")
    return value


def load_embed(ctx: Context) -> Loaded:
    """Setup kind ``embed``: load the model once (weights, tokenizer) or the endpoint client."""
    apply_offline_env()
    args = ctx.args
    unknown = set(args) - SETUP_KEYS
    if unknown:
        raise ValueError(f"unknown setup keys for embed {sorted(unknown)}; known: {sorted(SETUP_KEYS)}")
    backend = args.get("backend", "minilm")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, was {backend!r}")
    normalize = args.get("normalize")
    if normalize is not None and not isinstance(normalize, bool):
        raise ValueError(f"normalize must be true or false, was {normalize!r}")
    if backend == "minilm":
        from dspex_worker.embed.minilm import MiniLMEncoder, resolve_model_dir

        batch_size = _positive_int(args, "batch_size", 32)
        encoder: Any = MiniLMEncoder(resolve_model_dir(args.get("model")),
                                     _positive_int(args, "max_seq_length", None))
        # 0-row warm-up is free; one real text makes numpy/BLAS load their kernels now,
        # not in the first batch's latency.
        encoder.encode(["warm up"])
        dim: int | None = encoder.dim
        described = {"model": args.get("model") or "all-MiniLM-L6-v2",
                     "max_seq_length": encoder.max_seq_length}
    else:
        from dspex_worker.embed.remote import remote_from_args

        batch_size = _positive_int(args, "batch_size", 200)
        encoder = remote_from_args(args)
        dim = None  # known after the first call
        described = {"model": encoder.model}
    effective = encoder.normalizes if normalize is None else normalize
    handle = EmbedHandle(encoder, backend, effective, int(batch_size or 32))
    return Loaded(handle, {"backend": backend, "dim": dim, "normalize": effective,
                           "batch_size": handle.batch_size, **described,
                           "versions": versions(("tokenizers", "safetensors", "dspy"))})


def _texts(ctx: Context) -> list[Any]:
    if not ctx.has_body("texts"):
        raise ValueError("embed needs a body 'texts': a list of strings (or an Arrow column)")
    texts = ctx.body("texts")
    if not isinstance(texts, list):
        raise ValueError(f"body 'texts' must be a list of strings, was {type(texts).__name__}")
    if ctx.body_format("texts") == "arrow":
        # An Arrow body decodes to records; a one-column table is a column of texts.
        columns = {name for record in texts if isinstance(record, Mapping) for name in record}
        if len(columns) != 1 and "text" not in columns:
            raise ValueError(f"an Arrow 'texts' body needs one column (or 'text'), had {sorted(columns)}")
        column = "text" if "text" in columns else next(iter(columns), "text")
        texts = [record.get(column) if isinstance(record, Mapping) else None for record in texts]
    n = ctx.args.get("n")
    if n is not None and n != len(texts):
        raise ValueError(f"args.n is {n!r} but body 'texts' holds {len(texts)} texts")
    return texts


def embed(ctx: Context) -> Reply:
    """Encode body ``texts``; result ``{failed, dim}``, body ``vectors`` (float32 NUMPY n x dim)."""
    import numpy as np

    handle = ctx.handle
    if not isinstance(handle, EmbedHandle):
        raise TypeError(f"handle {ctx.args.get('handle')!r} is not an embed handle")
    texts = _texts(ctx)
    normalize = ctx.args.get("normalize", handle.normalize)
    if not isinstance(normalize, bool):
        raise ValueError(f"args.normalize must be true or false, was {normalize!r}")
    failed: list[dict[str, Any]] = []
    good: list[int] = []
    for index, text in enumerate(texts):
        if isinstance(text, str):
            good.append(index)
        else:
            kind = "null" if text is None else type(text).__name__
            failed.append(headers.failure(index, "InvalidText", f"text {index} is {kind}, not a string"))
    vectors = None
    if good:
        try:
            vectors = handle.encoder.encode([texts[i] for i in good], batch_size=handle.batch_size,
                                            normalize=normalize)
        except Exception as exc:  # an endpoint error fails its elements, not the batch
            if handle.backend == "minilm":
                raise  # a local model that cannot encode is broken: fail the request
            failed.extend(headers.failure(i, type(exc).__name__, str(exc)[:2000]) for i in good)
            failed.sort(key=lambda f: f["index"])
            good = []
    dim = int(vectors.shape[1]) if vectors is not None else int(getattr(handle.encoder, "dim", 0) or 0)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    if vectors is not None and good:
        out[good] = vectors
    return Reply({"failed": failed, "dim": dim}, {"vectors": out}, "numpy")


def register_embed(registry: Registry) -> None:
    """Register setup kind ``embed`` and handler ``embed`` in ``registry``."""
    registry.register_setup("embed", load_embed)
    registry.register("embed", embed)
