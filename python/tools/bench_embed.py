"""Embed throughput of a real worker: texts/s of the local model on the test corpus.

Usage (from python/)::

    python tools/bench_embed.py [--texts 1000] [--request 256] [--threads 2] [--precision float32]

Starts ``python -m dspex_worker`` with ``hello.threads`` (the model's threads), sets up
``embed`` at ``--precision``, sends the first ``--texts`` corpus verses (shuffled with a fixed
seed) in
requests of ``--request`` texts, and prints one JSON line: texts/s, seconds, setup
seconds, the load average before and after (a busy machine slows BLAS a lot).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "python" / "testing")]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--request", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--precision", default="float32", choices=("float32", "int8"))
    args = parser.parse_args(argv)

    from dspex_testing.client import WorkerProcess

    corpus = ROOT / "testdata" / "corpus" / "kjv_pentateuch.jsonl"
    texts = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines()]
    random.Random(0).shuffle(texts)
    texts = texts[: args.texts]
    load_before = os.getloadavg()[0]
    with WorkerProcess("dspex_worker") as worker:
        worker.hello(args={"threads": args.threads})
        began = time.perf_counter()
        setup = worker.call("setup", {"kind": "embed", "batch_size": args.batch_size,
                                      "precision": args.precision})
        assert setup.success, setup.error
        setup_s = time.perf_counter() - began
        handle = setup.result["handle"]
        began = time.perf_counter()
        for start in range(0, len(texts), args.request):
            chunk = texts[start : start + args.request]
            response = worker.call("embed", {"handle": handle, "n": len(chunk)}, {"texts": chunk})
            assert response.success and not response.result["failed"], response.error
        seconds = time.perf_counter() - began
    print(json.dumps({
        "texts": len(texts), "seconds": round(seconds, 2),
        "texts_per_s": round(len(texts) / seconds, 1), "setup_s": round(setup_s, 2),
        "threads": args.threads, "batch_size": args.batch_size, "precision": args.precision,
        "loadavg_before": load_before, "loadavg_after": os.getloadavg()[0],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
