"""The embed encoders in process: the local model's pipeline and the OpenAI-compatible backend.

The ONNX graph itself (against sentence-transformers' vectors, int8, its cache, its threads)
is tested in ``test_embed_onnx.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from dspex_worker.embed.model_files import ModelFiles, resolve_model_dir
from dspex_worker.embed.onnx_encoder import OnnxEncoder
from dspex_worker.embed.remote import RemoteEncoder
from dspex_testing.embed_texts import corpus_texts as corpus
from dspex_testing.lm_server_process import LMServerProcess


@pytest.fixture(scope="module")
def encoder() -> OnnxEncoder:
    return OnnxEncoder(ModelFiles.load(resolve_model_dir(None)), threads=2)


def test_the_bundled_model_is_all_minilm_l6_v2_with_its_pipeline(encoder: OnnxEncoder) -> None:
    files = encoder.files
    assert encoder.dim == 384 and files.layers == 6 and files.heads == 12
    assert encoder.max_seq_length == 256 and files.eps == 1e-12
    assert encoder.normalizes  # modules.json has a Normalize module


def test_vectors_are_float32_384_wide_and_unit_norm(encoder: OnnxEncoder) -> None:
    vectors = encoder.encode(corpus(20))
    assert vectors.dtype == np.float32 and vectors.shape == (20, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    raw = encoder.encode(corpus(3), normalize=False)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0, atol=1e-3)


def test_a_paraphrase_is_closer_than_an_unrelated_text(encoder: OnnxEncoder) -> None:
    a, b, c = encoder.encode(["A man is eating food.", "A man is eating a piece of bread.",
                              "The stock market fell sharply today."])
    assert a @ b > 0.6 and a @ c < 0.2, (a @ b, a @ c)


def test_a_vector_does_not_depend_on_its_batch(encoder: OnnxEncoder) -> None:
    texts = corpus(14) + ["short", "In the beginning " * 100]  # the last is truncated at 256
    batched = encoder.encode(texts, batch_size=6)
    for index in (0, 7, 13, 14, 15):
        alone = encoder.encode([texts[index]])[0]
        assert np.abs(alone - batched[index]).max() < 1e-5


def test_truncation_at_max_seq_length(encoder: OnnxEncoder) -> None:
    long_text = "word " * 1000
    assert len(encoder.tokenizer.encode(long_text).ids) == 256
    longer = encoder.encode([long_text, long_text + "more words at the end"])
    assert np.abs(longer[0] - longer[1]).max() < 1e-5


def test_empty_input_and_empty_text(encoder: OnnxEncoder) -> None:
    assert encoder.encode([]).shape == (0, 384)
    empty = encoder.encode([""])
    assert np.isfinite(empty).all() and abs(np.linalg.norm(empty) - 1.0) < 1e-5


def test_unknown_model_directory_is_refused(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="config.json"):
        resolve_model_dir(str(tmp_path))


@pytest.fixture(scope="module")
def server() -> Iterator[LMServerProcess]:
    with LMServerProcess(["--embed-dim", "24"]) as process:
        yield process


def test_openai_backend_through_dspy_embedder(server: LMServerProcess,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSPEX_TEST_EMBED_KEY", "not-a-secret")
    remote = RemoteEncoder("text-embedding-loopback", server.api_base, "DSPEX_TEST_EMBED_KEY",
                           batch_size=2)
    before = server.stats()["embedding_calls"]
    vectors = remote.encode(["a", "b", "a", "c", "d"])
    assert vectors.shape == (5, 24) and vectors.dtype == np.float32
    assert np.array_equal(vectors[0], vectors[2]) and not np.array_equal(vectors[0], vectors[1])
    assert server.stats()["embedding_calls"] - before == 3  # batches of 2
    with pytest.raises(ValueError, match="not set"):
        RemoteEncoder("m", server.api_base, "DSPEX_NOT_SET_EITHER")
