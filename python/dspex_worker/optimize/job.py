"""One compile: the dev score before, the optimizer's ``compile``, the dev score after, the saved
program; run on a thread of its own while the request's thread streams its progress.

The job thread runs under the student LM (``dspy.context(lm=...)``), the compile's watch
callback (:mod:`.progress`) and one usage tracker that the optimizer's own threads share
(:func:`dspex_worker.predict.usage.job_usage`), so every LM call counts once and, with a usage
ledger, is written down as it is made. The request's thread waits for the job's events and hands
each to ``report`` with the LM usage since the previous one; past ``compile_timeout_s`` it stops
the compile (at its next LM or metric call) and fails with :class:`~.progress.CompileTimeout`.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from dspex_worker import contract
from dspex_worker.optimize.handle import OptimizeHandle
from dspex_worker.optimize.progress import (
    CompileAborted,
    CompileTimeout,
    Progress,
    WatchedMetric,
    mean_score,
    watch_callback,
)
from dspex_worker.protocol import headers

#: Most often a ``progress`` event (counts only) is streamed, in seconds; milestones go at once.
COUNT_INTERVAL_S = 1.0

#: Receives one progress record and the LM usage since the previous report.
Report = Callable[[dict[str, Any], dict[str, int]], None]


def _minus(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {key: now[key] - before.get(key, 0) for key in now}


class CompileJob:
    """Compiles ``handle``'s program on ``trainset``, scored on ``devset`` (may be empty)."""

    def __init__(self, handle: OptimizeHandle, trainset: list[Any], devset: list[Any]) -> None:
        if not trainset:
            raise ValueError("optimize needs at least one training example (body 'trainset' is empty)")
        self.handle = handle
        self.trainset = trainset
        self.devset = devset
        self.progress = Progress()
        self._tracker: Any = None
        self._result: dict[str, Any] | None = None
        self._error: BaseException | None = None

    def usage(self) -> dict[str, int]:
        """LM usage of the job so far: ``{prompt_tokens, completion_tokens, calls}``."""
        return self._tracker.totals() if self._tracker is not None else headers.usage_map()

    def run(self, report: Report) -> tuple[dict[str, Any], dict[str, int]]:
        """Compile; call ``report`` on this thread as progress comes. Returns the result record
        and the LM usage not yet reported.

        Raises:
            CompileTimeout: past the handle's ``compile_timeout_s``.
            MetricError: the metric raised.
            Exception: whatever the optimizer raised.
        """
        thread = threading.Thread(target=self._work, name="dspex-optimize", daemon=True)
        timeout = self.handle.compile_timeout_s
        deadline = None if timeout is None else time.monotonic() + timeout
        reported = headers.usage_map()
        thread.start()
        try:
            while not self.progress.finished:
                wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
                for event in self.progress.take(wait, COUNT_INTERVAL_S):
                    now = self.usage()
                    report(event, _minus(now, reported))
                    reported = now
                if deadline is not None and time.monotonic() >= deadline and not self.progress.finished:
                    raise CompileTimeout(
                        f"the compile ran past compile_timeout_s {timeout:g} s (phase"
                        f" {self.progress.phase}, {self.progress.lm_calls} LM calls); it was stopped")
        except BaseException as exc:
            # The client went away, or the timeout: the optimizer stops at its next LM call.
            self.progress.abort(exc)
            raise
        thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result, _minus(self.usage(), reported)

    def _work(self) -> None:
        import dspy

        from dspex_worker.predict.usage import job_usage

        try:
            with dspy.context(lm=self.handle.lm, callbacks=[watch_callback(self.progress)]), \
                    job_usage(self.handle.recorder) as tracker:
                self._tracker = tracker
                self._result = self._compile()
        except CompileAborted as aborted:
            self._error = aborted.cause
        except BaseException as exc:  # noqa: BLE001 - reported by the request's thread
            self._error = self.progress.aborted or exc
        finally:
            self.progress.done()

    def _compile(self) -> dict[str, Any]:
        handle, progress = self.handle, self.progress
        started = time.monotonic()
        metric = WatchedMetric(handle.metric, handle.metric_name, handle.metric_threshold, progress)
        before = self._score(handle.program, metric, "evaluate_before", "the program as given")
        progress.set_phase("compile", f"{handle.optimizer.name} on {len(self.trainset)} examples")
        optimizer = handle.optimizer.build(metric=metric, metric_threshold=handle.metric_threshold,
                                           teacher_lm=handle.teacher_lm, seed=handle.seed,
                                           threads=handle.threads)
        compiled = optimizer.compile(handle.program.deepcopy(), trainset=self.trainset,
                                     **handle.optimizer.compile)
        after = self._score(compiled, metric, "evaluate_after", "the compiled program")
        progress.set_phase("save", "saving the compiled program")
        usage = self.usage()
        return {
            "program_json": _saved_json(compiled),
            "optimizer": handle.optimizer.name,
            "metric": handle.metric_name,
            "trainset_size": len(self.trainset),
            "devset_size": len(self.devset),
            "dev_score_before": before,
            "dev_score_after": after,
            "demos": sum(len(p.demos) for p in compiled.predictors()),
            "trials": progress.trials,
            "lm_calls": usage["calls"],
            "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"],
            "seconds": round(time.monotonic() - started, 3),
        }

    def _score(self, program: Any, metric: WatchedMetric, phase: str, what: str) -> float | None:
        """The mean metric of ``program`` on the dev set (None without one)."""
        if not self.devset:
            return None
        import dspy

        self.progress.set_phase(phase, f"scoring {what} on {len(self.devset)} dev examples")
        evaluate = dspy.Evaluate(devset=self.devset, metric=metric, num_threads=self.handle.threads,
                                 display_progress=False, display_table=False)
        return mean_score(evaluate(program))


def _saved_json(program: Any) -> str:
    """``program.save(path)``'s JSON, as text (what ``program.load(path)`` reads)."""
    with tempfile.TemporaryDirectory(dir=os.environ.get(contract.TEMP_DIR_ENV) or None) as tmp:
        path = os.path.join(tmp, "program.json")
        program.save(path)
        with open(path, encoding="utf-8") as file:
            return file.read()
