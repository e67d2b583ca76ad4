"""The ``embed`` model kind (contract: docs/protocol.md, section 9.9.3).

Nothing heavy is imported here: onnxruntime, onnx, numpy, tokenizers, safetensors and dspy
are imported by :meth:`EmbedKind.load_model`, so registering the kind costs nothing at
``hello`` (and the thread limits of hello are in the environment before any of them loads).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dspex_worker import contract
from dspex_worker.codec.formats import ARROW, NUMPY
from dspex_worker.embed.model_files import DEFAULT_MODEL
from dspex_worker.handlers import Loaded
from dspex_worker.kinds import Emit, InputBody, ModelKind, Outcome
from dspex_worker.protocol.writer import BodyFormats

#: Keys ``setup`` kind ``embed`` understands (besides ``kind``).
SETUP_KEYS = contract.SETUP_KEYS["embed"]
BACKENDS = ("onnx", "openai")
#: The precisions each backend runs (the first is its default).
PRECISIONS = {"onnx": ("float32", "int8")}


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


def _local_encoder(args: Mapping[str, Any], precision: str, logger: logging.Logger) -> Any:
    """The ONNX Runtime encoder of setup ``args``' model."""
    from dspex_worker.embed.model_files import ModelFiles, resolve_model_dir
    from dspex_worker.embed.onnx_encoder import OnnxEncoder

    files = ModelFiles.load(resolve_model_dir(args.get("model")),
                            _positive_int(args, "max_seq_length", None))
    return OnnxEncoder(files, precision, logger=logger)


def _dim(model: EmbedHandle, outputs: Sequence[Any]) -> int:
    """The vectors' width: a vector's, else what the encoder knows (openai: after a call)."""
    row = next((vector for vector in outputs if vector is not None), None)
    return int(row.shape[0]) if row is not None else int(getattr(model.encoder, "dim", 0) or 0)


class EmbedKind(ModelKind):
    """Texts to float32 vectors, one request at a time per encoder (CPU-bound)."""

    name = "embed"
    setup_keys = SETUP_KEYS
    inputs = InputBody("texts", "a list of strings", "texts", " (or an Arrow column)")
    output_body = "vectors"
    version_packages = ("onnxruntime", "onnx", "tokenizers", "safetensors", "dspy")

    def load_model(self, args: Mapping[str, Any], logger: logging.Logger) -> Loaded:
        """Load the model once (graph or weights, tokenizer) or the endpoint client."""
        backend = args.get("backend", "onnx")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, was {backend!r}")
        normalize = args.get("normalize")
        if normalize is not None and not isinstance(normalize, bool):
            raise ValueError(f"normalize must be true or false, was {normalize!r}")
        precision = args.get("precision")
        if precision is not None and precision not in PRECISIONS.get(backend, ()):
            raise ValueError(f"precision must be one of {PRECISIONS.get(backend, ())} for backend "
                             f"{backend!r}, was {precision!r}")
        if backend == "openai":
            from dspex_worker.embed.remote import remote_from_args

            batch_size = _positive_int(args, "batch_size", 200)
            encoder: Any = remote_from_args(args)
            dim: int | None = None  # known after the first call
            described: dict[str, Any] = {"model": encoder.model}
        else:
            batch_size = _positive_int(args, "batch_size", 32)
            precision = precision or PRECISIONS[backend][0]
            encoder = _local_encoder(args, precision, logger)
            # One real text makes the session load its kernels now, not in the first batch.
            encoder.encode(["warm up"])
            dim = encoder.dim
            described = {"model": args.get("model") or DEFAULT_MODEL,
                         "max_seq_length": encoder.max_seq_length, "precision": precision,
                         "threads": encoder.threads, "graph": str(encoder.graph.path),
                         "graph_sha256": encoder.graph.sha256}
        effective = encoder.normalizes if normalize is None else normalize
        handle = EmbedHandle(encoder, backend, effective, int(batch_size or 32))
        return Loaded(handle, {"backend": backend, "dim": dim, "normalize": effective,
                               "batch_size": handle.batch_size, **described})

    def batch_elements(self, body: list[Any], body_format: str) -> list[Any]:
        """The texts; an Arrow body decodes to records, and a one-column table is a column of texts."""
        if body_format != ARROW.name:
            return body
        columns = {name for record in body if isinstance(record, Mapping) for name in record}
        if len(columns) != 1 and "text" not in columns:
            raise ValueError(f"an Arrow 'texts' body needs one column (or 'text'), had {sorted(columns)}")
        column = "text" if "text" in columns else next(iter(columns), "text")
        return [record.get(column) if isinstance(record, Mapping) else None for record in body]

    def request_options(self, args: Mapping[str, Any], model: EmbedHandle) -> bool:
        """``args.normalize`` (default: the setup's)."""
        normalize = args.get("normalize", model.normalize)
        if not isinstance(normalize, bool):
            raise ValueError(f"args.normalize must be true or false, was {normalize!r}")
        return normalize

    def run_inference(self, batch: Sequence[Any], model: EmbedHandle, options: bool, emit: Emit) -> None:
        """Encode the strings in one call; a text that is not one fails alone.

        An endpoint error fails its elements, not the batch; a local model that cannot
        encode is broken, so it fails the request.
        """
        outcomes: list[Outcome] = []
        good: list[int] = []
        for index, text in enumerate(batch):
            if isinstance(text, str):
                good.append(index)
            else:
                what = "null" if text is None else type(text).__name__
                outcomes.append(Outcome.failed(index, "InvalidText", f"text {index} is {what}, not a string"))
        if good:
            try:
                vectors = model.encoder.encode([batch[i] for i in good], batch_size=model.batch_size,
                                               normalize=options)
            except Exception as exc:
                if model.backend != "openai":
                    raise
                outcomes.extend(Outcome.failed(i, type(exc).__name__, str(exc)[:2000]) for i in good)
            else:
                outcomes.extend(Outcome(i, vector) for i, vector in zip(good, vectors))
        emit(outcomes)

    def encode_outputs(self, model: EmbedHandle, outputs: Sequence[Any], request_format: str) -> tuple[Any, BodyFormats]:
        """Body ``vectors``: NUMPY float32 ``n x dim``, a zero row where an element failed."""
        import numpy as np

        out = np.zeros((len(outputs), _dim(model, outputs)), dtype=np.float32)
        rows = [index for index, vector in enumerate(outputs) if vector is not None]
        if rows:
            out[rows] = np.stack([outputs[index] for index in rows])
        return out, NUMPY.name

    def result(self, model: EmbedHandle, outputs: Sequence[Any], failed: list[dict[str, Any]],
               usage: dict[str, int]) -> dict[str, Any]:
        """``{failed, dim}``: embeddings report no LM usage."""
        return {"failed": failed, "dim": _dim(model, outputs)}
