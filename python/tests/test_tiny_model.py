"""The test embedder the end-to-end tests and the scale benchmarks share (``dspex_testing.tiny_model``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dspex_testing import tiny_model
from dspex_worker.embed.model_files import ModelFiles, resolve_model_dir
from dspex_worker.embed.onnx_encoder import OnnxEncoder


def test_the_production_encoder_loads_it_and_returns_deterministic_384_float_vectors(tmp_path: Path) -> None:
    model = tiny_model.write(tmp_path / "tiny")
    encoder = OnnxEncoder(ModelFiles.load(resolve_model_dir(str(model))), threads=1)
    texts = ["a short text", "another, longer text about the river and the hills beyond it", ""]
    first = encoder.encode(texts)
    again = encoder.encode(list(reversed(texts)))[::-1]
    assert first.shape == (3, 384) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first[0], first[1])


def test_texts_past_its_sixteen_tokens_embed_as_their_first_sixteen(tmp_path: Path) -> None:
    model = tiny_model.write(tmp_path / "tiny")
    encoder = OnnxEncoder(ModelFiles.load(resolve_model_dir(str(model))), threads=1)
    words = " ".join(f"word{i}" for i in range(40))
    longer = words + " and many more words after the cut"
    vectors = encoder.encode([words, longer])
    np.testing.assert_allclose(vectors[0], vectors[1], rtol=1e-6)
