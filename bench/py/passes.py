"""The direct peers' common frame: load, warm up, then timed passes when the Java side asks.

The Java benchmark alternates passes of the direct peers and of DSPex, so that every side
sees the shared machine in the same state (its speed drifts by 10-20% over minutes). A peer
prints ``{"phase": "warm", "load_s", "warmup_s", ...}`` once warm, then one JSON line per
line read from stdin: ``{texts, seconds, cpu_s, per_s, ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence

#: The thread variables of OpenMP, MKL and OpenBLAS (numpy, torch), set before they load.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

#: Encodes all the texts once; returns the seconds to count, or None for the call's own time.
Encode = Callable[[Sequence[str]], "float | None"]


def serve_passes(timed_pass: Callable[[], dict[str, object]]) -> None:
    """For each line read from stdin, run ``timed_pass`` and print its result as one JSON
    line; return at end of input."""
    for _ in sys.stdin:
        print(json.dumps(timed_pass()), flush=True)


def peer_arguments(description: str) -> argparse.ArgumentParser:
    """The arguments every embed peer takes: the corpus, how many texts, threads, batch size."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("corpus")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    return parser


def limit_threads(threads: int) -> None:
    """The thread variables to ``threads``; call before numpy or torch is imported."""
    for name in THREAD_ENV_VARS:
        os.environ[name] = str(threads)


def read_texts(corpus: str, count: int) -> list[str]:
    """The first ``count`` texts of a JSONL corpus (field ``text``)."""
    with open(corpus, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()][:count]


def run_embed_peer(args: argparse.Namespace, load: Callable[[], Encode],
                   described: dict[str, object]) -> int:
    """Load the model (timed), encode every text once as the warm-up, then serve timed passes.

    ``described`` goes into every pass line (the peer's settings).
    """
    texts = read_texts(args.corpus, args.texts)
    began = time.perf_counter()
    encode = load()
    load_s = time.perf_counter() - began

    def run() -> float:
        t0 = time.perf_counter()
        inner = encode(texts)
        return inner if inner is not None else time.perf_counter() - t0

    warmup_s = run()
    print(json.dumps({"phase": "warm", "warmup_s": warmup_s, "load_s": load_s, **described}),
          flush=True)

    def timed() -> dict[str, object]:
        cpu0 = time.process_time()
        seconds = run()
        return {"texts": len(texts), "seconds": seconds, "cpu_s": time.process_time() - cpu0,
                "per_s": len(texts) / seconds, "threads": args.threads,
                "batch_size": args.batch_size, "loadavg": os.getloadavg()[0], **described}

    serve_passes(timed)
    return 0
