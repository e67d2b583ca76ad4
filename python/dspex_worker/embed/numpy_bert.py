"""The numpy backend: a sentence-transformers BERT encoder as a pure-numpy forward pass.

The default backend is ONNX Runtime (:mod:`.onnx_encoder`), several times faster. This one
stays for two reasons: it is the reference the ONNX graph is tested against in the worker's
own test suite (sentence-transformers needs torch, which the worker venv never holds; this
pass matches sentence-transformers within 2e-7 on the 210-text comparison set,
``python/tools/compare_embeddings.py``), and the fallback (setup ``backend: "numpy"``) where
onnxruntime has no wheel. Same arithmetic in float32 as ``BertModel``: GELU with erf,
LayerNorm eps from ``config.json``, masked softmax attention, mean pooling.
"""

from __future__ import annotations

import numpy as np

from dspex_worker.embed.model_files import ModelFiles
from dspex_worker.embed.sentence_encoder import SentenceEncoder


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


class NumpyBertEncoder(SentenceEncoder):
    """The forward pass of a BERT sentence encoder in numpy (BLAS matmuls).

    Args:
        files: the model's files.
    """

    def __init__(self, files: ModelFiles) -> None:
        super().__init__(files)
        self.layers = files.layers
        self.heads = files.heads
        self.hidden = files.hidden
        self.eps = files.eps
        self.w = files.weights()
        # Pre-transpose the dense layers once: x @ W.T on every call would copy W.
        for name in list(self.w):
            if name.endswith(".weight") and self.w[name].ndim == 2 and "embeddings" not in name:
                self.w[name] = np.ascontiguousarray(self.w[name].T)

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
