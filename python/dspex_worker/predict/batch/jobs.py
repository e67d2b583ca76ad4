"""Getting batch answers for request lines: submit, record, poll, download.

:meth:`BatchJobs.answer` takes the request lines one round of elements needs and returns once
the book holds an answer (or an error) for each, or the longest wait passed. A line is submitted
only when no batch already carries it: one this worker submitted and is waiting for (another
request of the same handle), or one recorded in the state file (a killed run's, another
worker's), which is polled and downloaded instead. A recorded batch of an earlier run that ended
without a successful answer for a line (it expired, failed, was cancelled, or answered with an
error) gets that line submitted again, once, as a live re-run would call it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from dspex_worker.predict.batch.engine import Answer, AnswerBook, BatchFailed, BatchRequestExpired
from dspex_worker.predict.batch.openai_batches import TERMINAL, OpenAIBatches, batch_errors
from dspex_worker.predict.batch.settings import BatchApiSettings
from dspex_worker.predict.batch.state_file import BatchStateFile
from dspex_worker.predict.batch.wire import RequestLine

#: Metadata on every batch this worker creates (shown in the provider's dashboard).
METADATA = {"created_by": "dspex-beam"}

_log = logging.getLogger("dspex_worker.predict.batch")
_NO_ANSWER = Answer(status=0)


class BatchJobs:
    """The batches of one handle.

    Args:
        client: the Batch API.
        settings: limits, poll interval, longest wait.
        book: where answers go.
        state: the state file, or None.
        sleep, clock: time (tests may speed it up).
    """

    def __init__(self, client: OpenAIBatches, settings: BatchApiSettings, book: AnswerBook,
                 state: BatchStateFile | None, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.settings = settings
        self.book = book
        self.state = state
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        #: custom_id -> the batch this worker submitted it in, until that batch's answers are in.
        self._in_flight: dict[str, str] = {}
        #: The ids of the batches this worker created.
        self._mine: set[str] = set()
        #: Batches whose answers were collected (their final status).
        self._collected: dict[str, str] = {}
        #: Statuses last recorded in the state file.
        self._recorded_status: dict[str, str] = {}

    def answer(self, lines: Sequence[RequestLine]) -> dict[str, str]:
        """Answers for ``lines`` into the book; returns ``custom_id -> why`` for those still
        waiting when :attr:`BatchApiSettings.timeout_s` passed (their batches keep running)."""
        deadline = self._clock() + self.settings.timeout_s
        wanted = {line.custom_id: line for line in lines if not self.book.has(line.custom_id)}
        waiting: dict[str, set[str]] = {}
        adopted: set[str] = set()
        with self._lock:
            for cid in wanted:
                if cid in self._in_flight:
                    waiting.setdefault(self._in_flight[cid], set()).add(cid)
        uncovered = set(wanted) - {cid for ids in waiting.values() for cid in ids}
        if uncovered and self.state is not None:
            for record in _best_first(self.state.batches()):
                if record["id"] in self._mine or record["id"] in self._collected:
                    continue
                hit = uncovered & set(record.get("custom_ids") or ())
                if hit:
                    waiting.setdefault(record["id"], set()).update(hit)
                    adopted.add(record["id"])
                    uncovered -= hit
                    _log.info("batch %s (recorded, %s): %d requests picked up instead of submitted again",
                              record["id"], record.get("status"), len(hit))
        self._submit_all([wanted[cid] for cid in wanted if cid in uncovered], waiting)
        resubmitted: set[str] = set()
        while True:
            for batch_id in list(waiting):
                batch = self._poll(batch_id)
                if batch is None or batch.get("status") not in TERMINAL:
                    continue
                self._collect(batch)
                ids = waiting.pop(batch_id)
                missing = [cid for cid in ids if not self.book.has(cid)]
                # From an earlier run's batch only answers are taken: its failed and expired
                # requests are submitted again, as a live re-run would call them again.
                again = [wanted[cid] for cid in ids if batch_id in adopted and cid not in resubmitted
                         and not (self.book.get(cid) or _NO_ANSWER).ok]
                if again:
                    _log.info("batch %s ended %s without answering %d requests: submitting them again",
                              batch_id, batch.get("status"), len(again))
                    resubmitted.update(line.custom_id for line in again)
                    self._submit_all(again, waiting)
                for cid in missing:
                    if cid not in resubmitted:
                        self.book.put(cid, _ended_without_answer(batch))
            if not waiting:
                return {}
            now = self._clock()
            if now >= deadline:
                return {cid: f"batch {batch_id} had not ended after batch_api.timeout_s={self.settings.timeout_s:g}"
                             f" s (it keeps running; a re-run with the same state file picks it up)"
                        for batch_id, ids in waiting.items() for cid in ids}
            self._sleep(min(self.settings.poll_interval_s, max(0.0, deadline - now)))

    # -- submitting ---------------------------------------------------------------------

    def _chunks(self, lines: Sequence[RequestLine]) -> list[list[RequestLine]]:
        """``lines`` in batches within the request and byte limits (a line over the byte limit
        alone fails)."""
        chunks: list[list[RequestLine]] = []
        current: list[RequestLine] = []
        size = 0
        for line in lines:
            length = len(line.json_line().encode("utf-8")) + 1
            if length > self.settings.max_batch_bytes:
                self.book.put(line.custom_id, Answer(status=0, error_type=BatchFailed, message=(
                    f"the request is {length} bytes, over batch_api.max_batch_bytes={self.settings.max_batch_bytes}")))
                continue
            if current and (len(current) >= self.settings.max_requests_per_batch
                            or size + length > self.settings.max_batch_bytes):
                chunks.append(current)
                current, size = [], 0
            current.append(line)
            size += length
        if current:
            chunks.append(current)
        return chunks

    def _submit_all(self, lines: Sequence[RequestLine], waiting: dict[str, set[str]]) -> None:
        for chunk in self._chunks(lines):
            batch_id = self._submit(chunk)
            if batch_id is not None:
                waiting[batch_id] = {line.custom_id for line in chunk}

    def _submit(self, lines: list[RequestLine]) -> str | None:
        endpoint = lines[0].url
        try:
            batch = self.client.submit(lines, endpoint, METADATA)
        except self.client.api_error as exc:
            message = f"the Batch API refused the batch of {len(lines)} requests: {exc}"
            _log.warning("%s", message)
            for line in lines:
                self.book.put(line.custom_id, Answer(status=0, error_type=BatchFailed, message=message))
            return None
        batch_id = batch["id"]
        with self._lock:
            self._mine.add(batch_id)
            for line in lines:
                self._in_flight[line.custom_id] = batch_id
        _log.info("batch %s: %d requests submitted (input file %s)", batch_id, len(lines), batch.get("input_file_id"))
        if self.state is not None:
            self.state.record({
                "id": batch_id, "provider": self.settings.provider, "input_file_id": batch.get("input_file_id"),
                "endpoint": endpoint, "model": lines[0].body.get("model"), "created_at": batch.get("created_at"),
                "status": batch.get("status"), "output_file_id": None, "error_file_id": None,
                "custom_ids": [line.custom_id for line in lines]})
            self._recorded_status[batch_id] = str(batch.get("status"))
        return batch_id

    # -- waiting --------------------------------------------------------------------------

    def _poll(self, batch_id: str) -> dict[str, Any] | None:
        """The batch now, or None when it cannot be read now (a transient API failure)."""
        with self._lock:
            if batch_id in self._collected:
                return {"id": batch_id, "status": self._collected[batch_id]}
        try:
            batch = self.client.retrieve(batch_id)
        except self.client.not_found:
            # A recorded batch the provider no longer has (or another server's): it answers nothing.
            _log.warning("batch %s: the Batch API does not know it", batch_id)
            return {"id": batch_id, "status": "failed",
                    "errors": {"data": [{"message": "the Batch API does not know this batch"}]}}
        except self.client.api_error as exc:
            _log.warning("batch %s: could not read its status (%s); trying again", batch_id, exc)
            return None
        status = str(batch.get("status"))
        if self.state is not None and self._recorded_status.get(batch_id) != status:
            self.state.record({"id": batch_id, "status": status, "output_file_id": batch.get("output_file_id"),
                               "error_file_id": batch.get("error_file_id")})
            self._recorded_status[batch_id] = status
        return batch

    def _collect(self, batch: dict[str, Any]) -> None:
        """Puts ``batch``'s answers into the book (once per batch)."""
        batch_id = batch["id"]
        with self._lock:
            if batch_id in self._collected:
                return
        status = str(batch.get("status"))
        try:
            answers = self.client.answers(batch)
        except self.client.api_error as exc:
            _log.warning("batch %s (%s): its results could not be downloaded: %s", batch_id, status, exc)
            answers = {}
        for cid, found in answers.items():
            self.book.put(cid, found)
        counts = batch.get("request_counts") or {}
        _log.info("batch %s %s: %s of %s requests completed, %s failed", batch_id, status,
                  counts.get("completed"), counts.get("total"), counts.get("failed"))
        with self._lock:
            self._collected[batch_id] = status
            for cid in [c for c, b in self._in_flight.items() if b == batch_id]:
                del self._in_flight[cid]


def _best_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recorded batches in the order to take requests from: those that ended well or may still
    (newest first), then those that ended without their answers (newest first)."""
    newest = list(reversed(records))
    dead = ("failed", "expired", "cancelled")
    return [r for r in newest if r.get("status") not in dead] + [r for r in newest if r.get("status") in dead]


def _ended_without_answer(batch: dict[str, Any]) -> Answer:
    """The error of a request its batch ended without answering."""
    status = batch.get("status")
    if status == "failed":
        return Answer(status=0, error_type=BatchFailed,
                      message=f"batch {batch['id']} failed: {batch_errors(batch)}")
    return Answer(status=0, error_type=BatchRequestExpired,
                  message=f"batch {batch['id']} ended {status} before it ran this request")
