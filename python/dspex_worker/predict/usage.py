"""LM usage of one element: what its chunk reports, and what the worker's ledger records.

dspy adds one entry to the usage tracker in force for every LM call that was not served
from its cache and that reported usage; an element's ``usage`` is the sum of its tracker's
entries (:func:`tracked_usage`). With a usage ledger (:mod:`dspex_worker.usage_ledger`),
:class:`LedgerRecorder` writes each call down as it is made: a dspy callback notes its start
and end, and the element's tracker notes each entry as dspy adds it, the same entries the
chunk is summed from. So the ledger holds what the chunks report, plus what a dead worker
never sent.

dspy is imported by the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from dspex_worker.protocol import headers
from dspex_worker.usage_ledger import UsageLedger


def entry_tokens(entry: Mapping[str, Any]) -> tuple[int, int]:
    """``(prompt_tokens, completion_tokens)`` of one usage entry as dspy records it."""
    return int(entry.get("prompt_tokens") or 0), int(entry.get("completion_tokens") or 0)


def tracked_usage(tracker: Any) -> dict[str, int]:
    """``{prompt_tokens, completion_tokens, calls}`` from a dspy ``UsageTracker``.

    dspy adds one entry per LM call that was not served from its cache and that
    reported usage, so ``calls`` counts real (billed) calls.
    """
    usage = headers.usage_map()
    for entries in tracker.usage_data.values():
        for entry in entries:
            prompt, completion = entry_tokens(entry)
            usage["prompt_tokens"] += prompt
            usage["completion_tokens"] += completion
            usage["calls"] += 1
    return usage


class LedgerRecorder:
    """Writes the LM calls of elements into a worker's usage ledger; one per ledger.

    Args:
        ledger: the worker's ledger.
    """

    def __init__(self, ledger: UsageLedger) -> None:
        from dspy.utils import callback

        self.ledger = ledger
        self.callback = _dspy_classes()[0](self)
        # dspy sets it around each call it runs callbacks for; a dspy without it leaves usage
        # unattributed (``u -``), which still counts.
        self._active_call = getattr(callback, "ACTIVE_CALL_ID", None)
        #: dspy's call id -> the ledger's call number, for the calls in progress.
        self._calls: dict[str, int] = {}

    def started(self, call_id: str) -> None:
        """dspy starts LM call ``call_id``."""
        self._calls[call_id] = self.ledger.started()

    def ended(self, call_id: str) -> None:
        """dspy's LM call ``call_id`` ended."""
        call = self._calls.pop(call_id, None)
        if call is not None:
            self.ledger.ended(call)

    def used(self, usage_entry: Mapping[str, Any]) -> None:
        """dspy added ``usage_entry`` to an element's tracker, within the active LM call."""
        prompt, completion = entry_tokens(usage_entry)
        call = self._calls.get(self._active_call.get()) if self._active_call is not None else None
        self.ledger.used(call, prompt, completion)

    @contextlib.contextmanager
    def tracking(self) -> Iterator[Any]:
        """An element's usage tracker in force, every entry also written to the ledger.

        Like ``dspy.track_usage()`` (a worker has no parent tracker), with this recorder's
        callback added to those in force.
        """
        import dspy

        tracker = _dspy_classes()[1](self)
        callbacks = [*dspy.settings.get("callbacks", []), self.callback]
        with dspy.settings.context(usage_tracker=tracker, callbacks=callbacks):
            yield tracker


@contextlib.contextmanager
def element_usage(recorder: LedgerRecorder | None) -> Iterator[Any]:
    """The usage tracker of one element: the recorder's, or dspy's own without a ledger."""
    if recorder is None:
        from dspy.utils.usage_tracker import track_usage

        with track_usage() as tracker:
            yield tracker
    else:
        with recorder.tracking() as tracker:
            yield tracker


@contextlib.contextmanager
def job_usage(recorder: LedgerRecorder | None) -> Iterator[Any]:
    """One usage tracker for a whole job whose LM calls run on many threads (an optimizer's).

    dspy's thread pools give each of their threads a deep copy of the tracker in force, whose
    entries never come back; the copies of this tracker are the tracker itself, so every LM call
    of the job, on whichever thread, counts once (and is written to the ledger, with a
    recorder). Its ``totals()`` are ``{prompt_tokens, completion_tokens, calls}`` so far.
    """
    import dspy

    tracker = _dspy_classes()[2](recorder)
    callbacks = list(dspy.settings.get("callbacks", []))
    if recorder is not None:
        callbacks.append(recorder.callback)
    with dspy.settings.context(usage_tracker=tracker, callbacks=callbacks):
        yield tracker


_CLASSES: tuple[type, type, type] | None = None


def _dspy_classes() -> tuple[type, type, type]:
    """The dspy callback and the usage trackers a :class:`LedgerRecorder` and a job use (made once)."""
    global _CLASSES
    if _CLASSES is None:
        from dspy.utils.callback import BaseCallback
        from dspy.utils.usage_tracker import UsageTracker

        class LedgerCallback(BaseCallback):
            """Notes each LM call's start and end; dspy calls it around ``BaseLM.__call__``."""

            def __init__(self, recorder: LedgerRecorder) -> None:
                self._recorder = recorder

            def on_lm_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
                self._recorder.started(call_id)

            def on_lm_end(
                self, call_id: str, outputs: Any, exception: BaseException | None = None
            ) -> None:
                self._recorder.ended(call_id)

        class LedgerUsageTracker(UsageTracker):
            """A dspy usage tracker that also writes each entry dspy adds to the ledger."""

            def __init__(self, recorder: LedgerRecorder) -> None:
                super().__init__()
                self._recorder = recorder

            def add_usage(self, lm: str, usage_entry: dict[str, Any]) -> None:
                super().add_usage(lm, usage_entry)
                # dspy's own condition: an empty entry is no entry.
                if len(usage_entry) > 0:
                    self._recorder.used(usage_entry)

            def __deepcopy__(self, memo: dict[int, Any]) -> Any:
                # dspy's thread pools (dspy.Parallel) give each thread a deep copy of the tracker,
                # whose entries never return to the element: such a copy is a plain tracker, so
                # the ledger keeps exactly what the element's usage is summed from.
                plain = UsageTracker()
                plain.usage_data = copy.deepcopy(self.usage_data, memo)
                return plain

        class SharedUsageTracker(UsageTracker):
            """A dspy usage tracker that every thread of a job shares (see :func:`job_usage`)."""

            def __init__(self, recorder: LedgerRecorder | None) -> None:
                super().__init__()
                self._recorder = recorder
                self._lock = threading.Lock()

            def add_usage(self, lm: str, usage_entry: dict[str, Any]) -> None:
                with self._lock:
                    super().add_usage(lm, usage_entry)
                if self._recorder is not None and len(usage_entry) > 0:
                    self._recorder.used(usage_entry)

            def totals(self) -> dict[str, int]:
                with self._lock:
                    return tracked_usage(self)

            def __deepcopy__(self, memo: dict[int, Any]) -> Any:
                return self

        _CLASSES = (LedgerCallback, LedgerUsageTracker, SharedUsageTracker)
    return _CLASSES
