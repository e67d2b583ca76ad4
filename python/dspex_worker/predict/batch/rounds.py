"""Batch mode's run of a request: rounds of passes through the program, batches between them.

Round 1 runs every element's program with the batch LM (:mod:`.engine`). An element whose LM
calls dspy's cache answers completes at once, and is emitted; an element that reaches a call no
cache and no batch answers stops there (:class:`~.engine.RequestDeferred`), and its call's
request line is collected. The round's lines (equal ones once) go to the Batch API
(:class:`~.jobs.BatchJobs`); once their answers are in, the waiting elements run again: the
answered call now returns (and is stored in dspy's cache, under a live call's key), and the
element either completes, fails (a parse failure, a failed or expired request), or stops at its
next call, for the next round. A ``Predict`` takes one round, a parse failure's JSONAdapter
retry a second, each further predictor of a multi-step program one more, up to
``max_rounds``.

Running the program again costs no LM call: every call before the waiting one is answered from
the book (or the cache). A program must therefore make the same calls given the same answers,
as a program whose cache hits must; one that draws random demos per call would wait forever,
and fails as ``BatchRoundsExceeded``.

Usage: an element reports the tokens of each batch answer it was served (over all its passes),
once, and only when it is the first to claim that answer: equal requests of several elements are
one request in the batch, and paid once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from dspex_worker.kinds.base import Outcome, add_usage
from dspex_worker.predict.batch.engine import SERVED, BatchTimeout, RequestDeferred
from dspex_worker.predict.batch.jobs import BatchJobs
from dspex_worker.predict.batch.wire import RequestLine
from dspex_worker.protocol import headers

_log = logging.getLogger("dspex_worker.predict.batch")


@dataclasses.dataclass
class _Waiting:
    """An element between two rounds: its input and the call it waits for."""

    index: int
    record: Any
    line: RequestLine


class BatchRounds:
    """Runs requests of a handle in batch mode.

    Args:
        handle: the predict handle (its program, fields, thread pool, usage recorder), with its
            ``lm`` the batch LM.
        jobs: submits and waits for the batches (its ``book`` holds the answers).
        max_rounds: the most rounds an element may take.
    """

    def __init__(self, handle: Any, jobs: BatchJobs, max_rounds: int) -> None:
        self.handle = handle
        self.jobs = jobs
        self.max_rounds = max_rounds

    def run(self, records: Sequence[Any], emit: Callable[[list[Outcome]], None], pool: Any) -> None:
        """Every record, outcomes emitted (on this thread) as elements complete, round after round."""
        run = _Run(self, emit)
        pending: list[tuple[int, Any]] = list(enumerate(records))
        for round_number in range(1, self.max_rounds + 1):
            waiting = run.one_pass(pending, pool)
            if not waiting:
                return
            lines = list({w.line.custom_id: w.line for w in waiting}.values())
            _log.info("round %d: %d elements wait for %d distinct requests", round_number, len(waiting), len(lines))
            unanswered = self.jobs.answer(lines)
            timed_out = [w for w in waiting if w.line.custom_id in unanswered]
            if timed_out:
                run.emit([Outcome.failed(w.index, BatchTimeout.__name__, unanswered[w.line.custom_id])
                          for w in timed_out])
            pending = [(w.index, w.record) for w in waiting if w.line.custom_id not in unanswered]
            if not pending:
                return
        # Every round ended with elements still waiting for further calls.
        waiting = run.one_pass(pending, pool)
        if waiting:
            run.emit([Outcome.failed(w.index, "BatchRoundsExceeded",
                                     f"the program made more than batch_api.max_rounds={self.max_rounds} LM calls"
                                     " one after another (or a different call on each run); raise max_rounds")
                      for w in waiting])


class _Run:
    """One request's elements across its rounds: the answers served to each, and its emits."""

    def __init__(self, rounds: BatchRounds, emit: Callable[[list[Outcome]], None]) -> None:
        self.rounds = rounds
        self._emit = emit
        #: Element index -> the custom_ids of the answers it was served, over all its passes.
        self.served: dict[int, list[str]] = {}

    def one_pass(self, pending: Sequence[tuple[int, Any]], pool: Any) -> list[_Waiting]:
        """One pass of ``pending`` through the program; emits the outcomes, returns who waits."""
        waiting: list[_Waiting] = []
        futures: set[Future[Outcome | _Waiting]] = {pool.submit(self._one, i, r) for i, r in pending}
        try:
            while futures:
                done, futures = wait(futures, return_when=FIRST_COMPLETED)
                outcomes = []
                for future in done:
                    result = future.result()
                    if isinstance(result, _Waiting):
                        waiting.append(result)
                    else:
                        outcomes.append(result)
                if outcomes:
                    self.emit(outcomes)
        finally:
            for future in futures:
                future.cancel()
            wait(futures)
        return sorted(waiting, key=lambda w: w.index)

    def _one(self, index: int, record: Any) -> Outcome | _Waiting:
        token = SERVED.set(self.served.setdefault(index, []))
        try:
            return self.rounds.handle.run_one(index, record)
        except RequestDeferred as deferred:
            return _Waiting(index, record, deferred.line)
        finally:
            SERVED.reset(token)

    def emit(self, outcomes: list[Outcome]) -> None:
        """Emits ``outcomes``, each with the tokens of the batch answers it claims."""
        for outcome in outcomes:
            outcome.usage = add_usage(add_usage(headers.usage_map(), outcome.usage),
                                      self._claimed(outcome.index))
        self._emit(sorted(outcomes, key=lambda o: o.index))

    def _claimed(self, index: int) -> dict[str, int]:
        """The usage of the answers element ``index`` is the first to claim (written to the
        worker's usage ledger too, as its calls' usage would be live)."""
        usage = headers.usage_map()
        book = self.rounds.jobs.book
        recorder = self.rounds.handle.recorder
        for custom_id in dict.fromkeys(self.served.get(index, ())):
            tokens = book.claim(custom_id, (id(self), index))
            if tokens is None:
                continue
            usage["prompt_tokens"] += tokens[0]
            usage["completion_tokens"] += tokens[1]
            usage["calls"] += 1
            if recorder is not None:
                recorder.ledger.used(None, *tokens)
        return usage
