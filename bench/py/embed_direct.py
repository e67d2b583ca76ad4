"""The direct side of ``bench/run embed``: the numpy MiniLM encoding in this one process.

Usage: ``embed_direct.py CORPUS_JSONL --texts 2000 --threads 2 --request 64 --batch-size 32``

Sets the BLAS thread count (``OMP/MKL/OPENBLAS_NUM_THREADS``) before numpy loads, loads the
bundled all-MiniLM-L6-v2 once, encodes all the texts once as a warm-up (printing
``{"phase": "warm", ...}``), then, for each line the caller writes to stdin, times encoding
them again in chunks of ``--request`` texts (what the transform sends per worker request),
``--batch-size`` at a time inside each chunk (the worker's default), printing one JSON line
a pass: the caller alternates these passes with the DSPex side's, so both see the machine
in the same state.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from passes import serve_passes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--request", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(args.threads)

    from dspex_worker.embed.minilm import MiniLMEncoder, resolve_model_dir

    with open(args.corpus, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()][: args.texts]
    began = time.perf_counter()
    encoder = MiniLMEncoder(resolve_model_dir(None))
    load_s = time.perf_counter() - began

    def run() -> float:
        t0 = time.perf_counter()
        for start in range(0, len(texts), args.request):
            encoder.encode(texts[start : start + args.request], batch_size=args.batch_size,
                           normalize=True)
        return time.perf_counter() - t0

    warmup_s = run()
    print(json.dumps({"phase": "warm", "warmup_s": warmup_s, "load_s": load_s}), flush=True)

    def timed() -> dict[str, object]:
        cpu0 = time.process_time()
        seconds = run()
        return {
            "texts": len(texts), "seconds": seconds, "cpu_s": time.process_time() - cpu0,
            "per_s": len(texts) / seconds, "threads": args.threads,
            "request": args.request, "batch_size": args.batch_size,
            "loadavg": os.getloadavg()[0],
        }

    serve_passes(timed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
