"""What a compile has done so far, told from the optimizer's own threads, and how it is stopped.

An optimizer's progress is observed where DSPy lets one look without changing it: the metric
(wrapped: a call with a trace is a bootstrap attempt, and an accepted one a bootstrapped demo), a
DSPy callback (each LM call that ends; each ``dspy.Evaluate`` that ends, with its score: a trial
of a candidate program while compiling) and the job's own phases. :class:`Progress` keeps the
counts and a queue of events for the handler thread, which streams them.

A compile is stopped by raising :class:`CompileAborted` in the optimizer's threads, at the next
LM call or metric call: a ``BaseException``, so that DSPy's error tolerance (``except
Exception`` in its bootstrap loop and thread pools) does not absorb it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from dspex_worker.trainset import as_score

#: Phases of a compile job, in order.
PHASES = ("load", "evaluate_before", "compile", "evaluate_after", "save")
#: Longest preview of an example in a metric's error message.
_PREVIEW_CHARS = 300


class CompileAborted(BaseException):
    """Stops a compile from inside the optimizer; ``cause`` says why."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class MetricError(Exception):
    """The metric raised: the compile cannot score predictions, so it stops."""


class CompileTimeout(Exception):
    """The compile took longer than its ``compile_timeout_s``."""


def _preview(example: Any) -> str:
    try:
        text = repr(dict(example.inputs()))
    except Exception:  # noqa: BLE001 - a preview must never fail the report
        text = repr(example)
    return text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + " [...]"


class Progress:
    """Counts and events of one compile, shared by its threads.

    Args:
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self._cond = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._counted = False
        self._aborted: BaseException | None = None
        self.finished = False
        self.phase = "load"
        self.demos = 0
        self.bootstrap_attempts = 0
        self.trials = 0
        self.metric_calls = 0
        self.lm_calls = 0
        self.best_score: float | None = None

    # -- told by the job and the optimizer's threads -----------------------------------------

    def set_phase(self, phase: str, message: str) -> None:
        """The job enters ``phase`` (one of :data:`PHASES`)."""
        with self._cond:
            self.phase = phase
            self._event("phase", message)

    def lm_call_ended(self) -> None:
        """An LM call ended (answered, failed, or from the cache)."""
        self.check()
        with self._cond:
            self.lm_calls += 1
            self._counted = True
            self._cond.notify_all()

    def metric_called(self, traced: bool, accepted: bool) -> None:
        """The metric scored a prediction; ``traced``: a bootstrap attempt (DSPy passes a trace)."""
        with self._cond:
            self.metric_calls += 1
            if traced:
                self.bootstrap_attempts += 1
                if accepted:
                    self.demos += 1
                    self._event("demo", f"bootstrapped demo {self.demos} after {self.bootstrap_attempts}"
                                        " attempts")
                    return
            self._counted = True
            self._cond.notify_all()

    def evaluated(self, score: float | None, n: int) -> None:
        """A ``dspy.Evaluate`` over ``n`` examples ended with ``score`` (a fraction)."""
        with self._cond:
            if self.phase != "compile":
                self._event("evaluation", f"{self.phase}: score {_fmt(score)} on {n} examples", score)
                return
            self.trials += 1
            if score is not None and (self.best_score is None or score > self.best_score):
                self.best_score = score
            self._event("trial", f"trial {self.trials}: score {_fmt(score)} on {n} examples"
                                 f" (best {_fmt(self.best_score)})", score)

    def done(self) -> None:
        """The job thread ended (whatever its outcome)."""
        with self._cond:
            self.finished = True
            self._cond.notify_all()

    # -- stopping --------------------------------------------------------------------------

    def abort(self, cause: BaseException) -> None:
        """Stop the compile at its next LM or metric call (the first cause wins)."""
        with self._cond:
            if self._aborted is None:
                self._aborted = cause
            self._cond.notify_all()

    @property
    def aborted(self) -> BaseException | None:
        """Why the compile was stopped, or None."""
        return self._aborted

    def check(self) -> None:
        """Raise :class:`CompileAborted` if the compile was stopped."""
        if self._aborted is not None:
            raise CompileAborted(self._aborted)

    # -- read by the handler thread ---------------------------------------------------------

    def take(self, timeout: float, count_interval: float) -> list[dict[str, Any]]:
        """The events to stream now: every milestone (phase, demo, trial, evaluation) as it
        happens, and a ``progress`` event with the counts when they changed, at most once per
        ``count_interval``. Waits up to ``timeout`` for something to send."""
        deadline = self._clock() + timeout
        with self._cond:
            while True:
                if self._events or self.finished or self._aborted is not None:
                    break
                if self._counted and self._clock() - self._last_count >= count_interval:
                    self._counted = False
                    self._last_count = self._clock()
                    return [self._snapshot("progress", f"{self.phase}: {self.lm_calls} LM calls,"
                                                       f" {self.metric_calls} metric calls")]
                left = deadline - self._clock()
                if left <= 0:
                    return []
                wait = left if not self._counted else min(left, count_interval)
                self._cond.wait(max(wait, 0.001))
            events, self._events = self._events, []
            return events

    _last_count = 0.0

    def snapshot(self, event: str, message: str) -> dict[str, Any]:
        """The counts now, as a progress record."""
        with self._cond:
            return self._snapshot(event, message)

    def _snapshot(self, event: str, message: str, score: float | None = None) -> dict[str, Any]:
        return {"event": event, "phase": self.phase, "message": message, "demos": self.demos,
                "trials": self.trials, "metric_calls": self.metric_calls, "lm_calls": self.lm_calls,
                "score": score, "best_score": self.best_score,
                "elapsed_s": round(self._clock() - self._started, 3)}

    def _event(self, event: str, message: str, score: float | None = None) -> None:
        self._events.append(self._snapshot(event, message, score))
        self._counted = False
        self._cond.notify_all()


def _fmt(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.4f}"


class WatchedMetric:
    """The user's metric, counted, and stopped at the first exception (see the module docstring).

    Args:
        metric: the metric.
        name: its name (``exact``, ``my_pkg.metrics:f1``), for messages.
        threshold: what a numeric result must reach to accept a bootstrap attempt (DSPy's
            ``metric_threshold``); None: truthy.
        progress: the compile's progress.
    """

    def __init__(self, metric: Callable[..., Any], name: str, threshold: float | None, progress: Progress) -> None:
        self.metric = metric
        self.name = name
        self.threshold = threshold
        self.progress = progress
        self.__name__ = name

    def __call__(self, example: Any, pred: Any, trace: Any = None, *args: Any, **kwargs: Any) -> Any:
        self.progress.check()
        try:
            result = self.metric(example, pred, trace, *args, **kwargs)
        except Exception as exc:
            error = MetricError(f"metric {self.name!r} raised {type(exc).__name__}: {exc} on the example"
                                f" {_preview(example)}; a metric must return a bool or a number for every"
                                " prediction")
            error.__cause__ = exc
            self.progress.abort(error)
            raise CompileAborted(error) from exc
        accepted = bool(result) if self.threshold is None or isinstance(result, bool) else \
            float(result) >= self.threshold
        self.progress.metric_called(trace is not None, accepted)
        return result


def watch_callback(progress: Progress) -> Any:
    """A DSPy callback that tells ``progress`` of LM calls (stopping them once the compile is
    stopped) and of each ``dspy.Evaluate``'s score."""
    from dspy.utils.callback import BaseCallback

    class CompileWatch(BaseCallback):
        """Reports LM calls and evaluations of a compile to its :class:`Progress`."""

        def on_lm_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
            progress.check()

        def on_lm_end(self, call_id: str, outputs: Any, exception: BaseException | None = None) -> None:
            progress.lm_call_ended()

        def on_evaluate_end(self, call_id: str, outputs: Any, exception: BaseException | None = None) -> None:
            if exception is None and outputs is not None:
                progress.evaluated(mean_score(outputs), len(getattr(outputs, "results", []) or []))

    return CompileWatch()


def mean_score(result: Any) -> float | None:
    """The mean metric value of a ``dspy.Evaluate`` result (a fraction, unrounded), or None."""
    results = getattr(result, "results", None)
    if results:
        return sum(as_score(score) for *_, score in results) / len(results)
    score = getattr(result, "score", None)
    return None if score is None else float(score) / 100
