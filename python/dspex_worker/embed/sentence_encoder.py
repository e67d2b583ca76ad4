"""What the local embed backend does around its forward pass, as ``SentenceTransformer.encode``.

Tokenize the request's texts with the model's tokenizer, run them through the encoder in
length-sorted sub-batches of at most ``batch_size`` (:mod:`.token_batches`), put the rows
back in input order, and L2-normalise when asked. The runtime (:mod:`.onnx_encoder`)
implements only :meth:`SentenceEncoder.forward`: padded token ids to mean-pooled vectors.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Sequence

import numpy as np

from dspex_worker.embed.model_files import ModelFiles
from dspex_worker.embed.token_batches import sub_batches


class SentenceEncoder(abc.ABC):
    """A sentence-transformers BERT pipeline over one model directory.

    Args:
        files: the model's files.

    Attributes:
        files: as given.
        dim: the vectors' width.
        max_seq_length: tokens per text; longer texts are truncated.
        normalizes: the model's own default for ``normalize`` (its ``Normalize`` module).
        tokenizer: the model's tokenizer (truncating, not padding).
    """

    def __init__(self, files: ModelFiles) -> None:
        self.files = files
        self.dim = files.hidden
        self.max_seq_length = files.max_seq_length
        self.normalizes = files.normalizes
        self.tokenizer = files.tokenizer()
        # The runtime is thread-safe, but concurrent encodes would only fight for the
        # threads the worker was given.
        self.lock = threading.Lock()

    @abc.abstractmethod
    def forward(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled (not normalised) float32 ``(batch, dim)`` vectors of a padded batch."""

    def encode(self, texts: Sequence[str], *, batch_size: int = 32,
               normalize: bool | None = None) -> np.ndarray:
        """Embeddings of ``texts`` as a float32 ``(len(texts), dim)`` array, in input order.

        ``batch_size`` bounds each length-sorted sub-batch; ``normalize`` None follows the
        model (its ``Normalize`` module).
        """
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return result
        with self.lock:
            encodings = self.tokenizer.encode_batch(list(texts))
            for indexes, arrays in sub_batches(encodings, batch_size, self.files.pad_id):
                result[indexes] = self.forward(*arrays)
        if self.normalizes if normalize is None else normalize:
            # torch.nn.functional.normalize: x / max(||x||, 1e-12).
            norms = np.linalg.norm(result, axis=1, keepdims=True)
            result /= np.maximum(norms, np.float32(1e-12))
        return result
