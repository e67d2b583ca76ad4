"""Running a DSPy program over a batch: one element per thread, results as they complete.

LM calls are I/O-bound, so a batch's elements run concurrently on a thread pool
(like ``dspy.Module.batch``). Each element runs inside its own
``dspy.context(lm=...)`` and usage tracker, which are thread-local in DSPy, so
elements never share settings and each gets its own token counts (written to the
worker's usage ledger as well, when it has one: :mod:`.usage`);
``dspy.configure`` (process-global, and refused from other threads) is never used.

Every failure of an element (missing inputs, unparseable LM output, LM errors after
the LM's own retries, the program raising, an output no body format can carry)
becomes that element's ``{index, type, message}``; nothing an element does fails
the batch.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from dspex_worker.codec import values
from dspex_worker.kinds.base import Outcome
from dspex_worker.predict.fields import plain_value
from dspex_worker.predict.usage import LedgerRecorder, element_usage, tracked_usage
from dspex_worker.protocol import headers

#: Longest failure message sent back (LM errors can quote whole prompts).
MAX_MESSAGE_CHARS = 2000
#: Longest preview of an output that cannot be encoded, in its failure message.
MAX_PREVIEW_CHARS = 500
#: Upper bound on ``threads`` (setup or request), a guard against typos like 10000.
MAX_THREADS = 256


def _message(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " [...]"


def _unencodable(output: dict[str, Any]) -> str | None:
    """Why no body format can carry ``output`` (``None`` when one can), with a preview of it.

    Checked per element because the answer is a chunk's: an LM answer holding half of a
    surrogate pair (a JSON API's ``"\\ud83d"`` cut off before its low half) would otherwise
    fail the encoding of the chunk, and so the request of every element in flight.
    """
    # The full walk, not the fast scan: the scan leaves strings to the encoders. One element's
    # record is small, and it follows an LM call.
    problem = values.first_problem(output, "outputs", json_mode=False)
    if problem is None:
        return None
    # repr escapes what UTF-8 cannot carry, so the message itself can travel.
    preview = repr(output)
    if len(preview) > MAX_PREVIEW_CHARS:
        preview = preview[:MAX_PREVIEW_CHARS] + " [...]"
    return f"{problem}; the program's output was {preview}"


def check_threads(value: Any, where: str) -> int:
    """``value`` as a thread count in ``1..MAX_THREADS``."""
    if type(value) is not int or not 1 <= value <= MAX_THREADS:
        raise ValueError(f"{where} must be an integer in 1..{MAX_THREADS}, was {value!r}")
    return value


@dataclasses.dataclass
class PredictHandle:
    """What ``setup`` kind ``predict`` loads: a program, its LM and its fields."""

    program: Any
    lm: Any
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    threads: int = 8
    #: Writes every LM call of the elements into the worker's usage ledger (none: not written).
    recorder: LedgerRecorder | None = None
    #: Batch mode: runs requests in rounds of provider batches (:mod:`.batch.rounds`); ``lm`` is
    #: then the batch LM. None: every LM call is a live one.
    batch: Any = None
    #: Runs the elements of every request that uses ``threads``: concurrent requests share its
    #: threads, so a worker has at most ``threads`` LM calls in flight for the handle, and the
    #: elements of a request queued behind another start as soon as threads free up (no drain
    #: at each request's end).
    _pool: ThreadPoolExecutor | None = dataclasses.field(default=None, init=False, repr=False, compare=False)
    _pool_lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, init=False, repr=False,
                                                   compare=False)

    @property
    def input_names(self) -> list[str]:
        """Input field names, in signature order."""
        return [field["name"] for field in self.inputs]

    def _missing(self, record: Any) -> str | None:
        if not isinstance(record, Mapping):
            return f"an input is a record of the input fields, not {type(record).__name__}"
        missing = [name for name in self.input_names if record.get(name) is None]
        if missing:
            return f"input field(s) {', '.join(repr(m) for m in missing)} missing or null"
        return None

    def output_record(self, prediction: Any) -> dict[str, Any]:
        """The output fields of a prediction, as plain typed values."""
        record = {}
        for field in self.outputs:
            name = field["name"]
            value = prediction.get(name) if hasattr(prediction, "get") else getattr(prediction, name, None)
            record[name] = plain_value(value, field["type"])
        return record

    def run_one(self, index: int, record: Any) -> Outcome:
        """Run the program on one input record; never raises."""
        import dspy

        problem = self._missing(record)
        if problem is not None:
            return Outcome.failed(index, "MissingInput", problem, headers.usage_map())
        kwargs = {name: record[name] for name in self.input_names}
        usage = headers.usage_map()
        try:
            with dspy.context(lm=self.lm), element_usage(self.recorder) as tracker:
                try:
                    prediction = self.program(**kwargs)
                finally:
                    usage = tracked_usage(tracker)
            output = self.output_record(prediction)
            unencodable = _unencodable(output)
            if unencodable is not None:
                return Outcome.failed(index, "OutputEncodingError", unencodable, usage)
            return Outcome(index, output, None, usage)
        except Exception as exc:  # noqa: BLE001 - every element failure is reported, not raised
            return Outcome.failed(index, type(exc).__name__, _message(exc), usage)

    def run(
        self,
        records: Sequence[Any],
        emit: Callable[[list[Outcome]], None],
        threads: int | None = None,
    ) -> None:
        """Run every record, calling ``emit`` (on this thread) with outcomes as they complete.

        Outcomes that complete together are emitted together, sorted by index.
        If ``emit`` raises (the client went away), elements not yet started are
        cancelled and the exception propagates.
        """
        own = threads is not None and threads != self.threads
        if own:
            # A request asking for another thread count gets a pool of its own.
            pool = ThreadPoolExecutor(max_workers=min(threads, max(1, len(records))),
                                      thread_name_prefix="dspex-predict")
        else:
            pool = self._shared_pool()
        pending: set[Future[Outcome]] = set()
        try:
            if self.batch is not None:
                self.batch.run(records, emit, pool)
                return
            pending = {pool.submit(self.run_one, index, record) for index, record in enumerate(records)}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                emit(sorted((future.result() for future in done), key=lambda o: o.index))
        finally:
            if own:
                pool.shutdown(wait=True, cancel_futures=True)
            elif pending:
                # Elements of this request not yet started are dropped; running ones finish first.
                for future in pending:
                    future.cancel()
                wait(pending)

    def _shared_pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="dspex-predict")
            return self._pool


def json_text(value: Any) -> str | None:
    """A ``json``-typed value as JSON text (how Arrow carries it)."""
    return None if value is None else json.dumps(value, ensure_ascii=False)
