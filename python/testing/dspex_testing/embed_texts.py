"""The texts embeddings are compared on: corpus verses plus edge cases.

The comparison set (210 texts: the corpus's first 200 verses and the 10 edge cases) is the
one the numpy encoder was checked against sentence-transformers on
(``python/tools/compare_embeddings.py``), and the one the ONNX graph is checked against the
numpy reference on (``tests/test_embed_onnx.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / "testdata" / "corpus" / "kjv_pentateuch.jsonl"

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
