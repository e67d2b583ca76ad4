"""The direct side of ``bench/run predict``: ``dspy.Predict(...).batch`` in this one process.

Usage: ``predict_direct.py QA_JSONL API_BASE --questions 1000 --threads 16``

Questions are the QA set's, cycled to ``--questions``. One LM, ``cache=False`` (no disk or
memory cache), against the loopback server. Runs the batch once as a warm-up (printing
``{"phase": "warm", ...}``), then times one more run for each line the caller writes to
stdin, printing one JSON line a run.
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
    parser.add_argument("qa")
    parser.add_argument("api_base")
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    import dspy

    with open(args.qa, encoding="utf-8") as f:
        qa = [json.loads(line)["question"] for line in f if line.strip()]
    questions = [qa[i % len(qa)] for i in range(args.questions)]
    lm = dspy.LM("openai/loopback", api_base=args.api_base, api_key="loopback", cache=False,
                 num_retries=0)
    dspy.configure(lm=lm)
    program = dspy.Predict("question -> answer")

    def run(n: int) -> tuple[float, int]:
        examples = [dspy.Example(question=q).with_inputs("question") for q in questions[:n]]
        t0 = time.perf_counter()
        results = program.batch(examples, num_threads=args.threads, disable_progress_bar=True)
        seconds = time.perf_counter() - t0
        return seconds, sum(1 for r in results if r is not None and getattr(r, "answer", None))

    warmup_s, _ = run(args.warmup)
    print(json.dumps({"phase": "warm", "warmup_s": warmup_s}), flush=True)

    def timed() -> dict[str, object]:
        cpu0 = time.process_time()
        seconds, answered = run(len(questions))
        return {
            "questions": len(questions), "answered": answered, "seconds": seconds,
            "cpu_s": time.process_time() - cpu0, "per_s": len(questions) / seconds,
            "threads": args.threads, "loadavg": os.getloadavg()[0],
        }

    # The caller resets the server's counters before each pass, then says go.
    serve_passes(timed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
