"""The loopback LM server's OpenAI Batch API: files, batches and their results, in memory.

The shapes are OpenAI's (``/v1/files``, ``/v1/batches``): a JSONL input file uploaded as
``multipart/form-data`` with ``purpose=batch``; a batch created over it ``{input_file_id,
endpoint: "/v1/chat/completions", completion_window: "24h"}``; the batch object polled at
``GET /v1/batches/{id}`` (``validating`` -> ``in_progress`` -> ``completed``, or ``failed``
when the file does not validate, ``expired``, ``cancelled``); the output and error files read
at ``GET /v1/files/{id}/content``, one line per request ``{id, custom_id, response:
{status_code, request_id, body}, error}``.

Each request of a batch is answered by the same function as the live chat endpoint (so
markers, rates and the QA answers behave alike), once the batch's completion delay
(``--batch-delay-s``) has passed, when the batch is next read. Misbehaviour on demand, by
markers in a request's prompt:

- ``__DSPEX_BATCH_EXPIRE__``: the request is never run; its batch ends ``expired``, the other
  requests answered, this one in the error file with code ``batch_expired``.
- ``__DSPEX_BATCH_INVALID__``: the input file fails validation; the batch ends ``failed``
  with an error naming the line.

and the live markers (``__DSPEX_500__`` and ``--rate-500``: a request that failed with status 500
in the error file; ``__DSPEX_MALFORMED__``: a completed request whose text follows no format).
The state has its own counters (:meth:`BatchApi.stats`), listed under ``batch`` in ``/stats``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

#: A request with this in its prompt is never run: its batch expires.
MARKER_EXPIRE = "__DSPEX_BATCH_EXPIRE__"
#: A request with this in its prompt makes its input file invalid: its batch fails.
MARKER_INVALID = "__DSPEX_BATCH_INVALID__"
#: The only endpoint the loopback batches run.
ENDPOINT = "/v1/chat/completions"
#: What OpenAI allows in one batch.
MAX_REQUESTS = 50_000

#: Answers one chat request body as the live endpoint would: ``(status, body)``.
ChatAnswer = Callable[[Mapping[str, Any]], tuple[int, dict[str, Any]]]


class BatchApiError(Exception):
    """A request the Batch API refuses: an HTTP status and OpenAI's error body."""

    def __init__(self, status: int, message: str, code: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": code, "param": None, "code": None}}


@dataclasses.dataclass
class _File:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "object": "file", "bytes": len(self.data), "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose, "status": "processed",
                "expires_at": None, "status_details": None}


@dataclasses.dataclass
class _Batch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, Any] | None
    created_at: int
    ready_at: float
    status: str = "validating"
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] | None = None
    times: dict[str, int] = dataclasses.field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        stamps = {name: self.times.get(name) for name in (
            "in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at",
            "cancelling_at", "cancelled_at")}
        return {
            "id": self.id, "object": "batch", "endpoint": self.endpoint,
            "errors": None if self.errors is None else {"object": "list", "data": self.errors},
            "input_file_id": self.input_file_id, "completion_window": self.completion_window,
            "status": self.status, "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id, "created_at": self.created_at,
            "expires_at": self.created_at + 24 * 3600, **stamps,
            "request_counts": {"total": self.total, "completed": self.completed, "failed": self.failed},
            "metadata": self.metadata, "model": None,
        }


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The parts of a ``multipart/form-data`` body: name -> (filename, bytes)."""
    boundary = None
    for piece in content_type.split(";"):
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not content_type.lower().startswith("multipart/form-data") or not boundary:
        raise BatchApiError(400, f"expected multipart/form-data with a boundary, got {content_type!r}")
    parts: dict[str, tuple[str | None, bytes]] = {}
    for chunk in raw.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        name = filename = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition:"):
                for item in line.split(";")[1:]:
                    key, _, value = item.strip().partition("=")
                    if key == "name":
                        name = value.strip('"')
                    elif key == "filename":
                        filename = value.strip('"')
        if name is not None:
            parts[name] = (filename, body[:-2] if body.endswith(b"\r\n") else body)
    return parts


def _prompt_text(body: Mapping[str, Any]) -> str:
    messages = body.get("messages") if isinstance(body, Mapping) else None
    if not isinstance(messages, list):
        return ""
    return "\n".join(str(m.get("content", "")) for m in messages if isinstance(m, Mapping))


class BatchApi:
    """Files and batches, shared by the server's request threads.

    Args:
        answer: answers one chat request body as the live endpoint does.
        delay_s: how long a batch stays ``in_progress`` before its results are computed.
    """

    def __init__(self, answer: ChatAnswer, delay_s: float = 0.0) -> None:
        self._answer = answer
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self._files: dict[str, _File] = {}
        self._batches: dict[str, _Batch] = {}
        self._counts: Counter[str] = Counter()
        self._serial = 0

    def _next_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}-loopback-{self._serial:06d}"

    # -- HTTP entry points: (status, JSON payload or raw bytes) ----------------------------

    def post(self, path: str, content_type: str, raw: bytes) -> tuple[int, Any]:
        """``POST /v1/files``, ``POST /v1/batches``, ``POST /v1/batches/{id}/cancel``."""
        try:
            parts = path.strip("/").split("/")[1:]  # without "v1"
            if parts == ["files"]:
                return 200, self.upload(content_type, raw)
            if parts == ["batches"]:
                try:
                    request = json.loads(raw or b"{}")
                except json.JSONDecodeError as exc:
                    raise BatchApiError(400, f"bad JSON: {exc}") from exc
                return 200, self.create(request)
            if len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel":
                return 200, self.cancel(parts[1])
            raise BatchApiError(404, f"no such path {path}")
        except BatchApiError as exc:
            return exc.status, exc.body

    def get(self, path: str) -> tuple[int, Any]:
        """``GET /v1/files/{id}``, ``/v1/files/{id}/content``, ``/v1/batches[/{id}]``."""
        try:
            parts = path.split("?")[0].strip("/").split("/")[1:]
            if len(parts) == 2 and parts[0] == "files":
                return 200, self._file(parts[1]).describe()
            if len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
                with self._lock:
                    self._counts["downloads"] += 1
                return 200, self._file(parts[1]).data
            if len(parts) == 2 and parts[0] == "batches":
                return 200, self.retrieve(parts[1])
            if parts == ["batches"]:
                with self._lock:
                    ids = list(self._batches)
                return 200, {"object": "list", "data": [self.retrieve(i) for i in reversed(ids)],
                             "has_more": False}
            raise BatchApiError(404, f"no such path {path}")
        except BatchApiError as exc:
            return exc.status, exc.body

    # -- operations ---------------------------------------------------------------------

    def upload(self, content_type: str, raw: bytes) -> dict[str, Any]:
        """Stores an uploaded file; returns its file object."""
        parts = _multipart(content_type, raw)
        if "file" not in parts:
            raise BatchApiError(400, "the upload has no 'file' part")
        purpose = parts.get("purpose", (None, b""))[1].decode("utf-8", "replace")
        if purpose != "batch":
            raise BatchApiError(400, f"purpose must be 'batch' here, was {purpose!r}")
        filename, data = parts["file"]
        with self._lock:
            file = _File(self._next_id("file"), filename or "upload.jsonl", purpose, data, int(time.time()))
            self._files[file.id] = file
            self._counts["files_uploaded"] += 1
            self._counts["bytes_uploaded"] += len(data)
        return file.describe()

    def create(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Creates a batch over an uploaded file; returns the batch object (``validating``)."""
        file_id = request.get("input_file_id")
        endpoint = request.get("endpoint")
        window = request.get("completion_window")
        if endpoint != ENDPOINT:
            raise BatchApiError(400, f"endpoint must be {ENDPOINT!r} here, was {endpoint!r}")
        if window != "24h":
            raise BatchApiError(400, f"completion_window must be '24h', was {window!r}")
        self._file(str(file_id))
        metadata = request.get("metadata")
        with self._lock:
            batch = _Batch(self._next_id("batch"), str(file_id), endpoint, window,
                           dict(metadata) if isinstance(metadata, Mapping) else None,
                           int(time.time()), time.monotonic() + self.delay_s)
            self._batches[batch.id] = batch
            self._counts["batches_created"] += 1
        return batch.describe()

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        """The batch object, moved on by the time passed (results computed once it is due)."""
        with self._lock:
            batch = self._batch(batch_id)
            self._counts["polls"] += 1
            if batch.status == "validating":
                problems, requests = self._validate(self._files[batch.input_file_id].data)
                batch.total = len(requests)
                if problems:
                    batch.status, batch.errors = "failed", problems
                    batch.times["failed_at"] = int(time.time())
                    self._counts["batches_failed"] += 1
                else:
                    batch.status = "in_progress"
                    batch.times["in_progress_at"] = int(time.time())
            if batch.status == "in_progress" and time.monotonic() >= batch.ready_at:
                self._run(batch)
            if batch.status == "cancelling":
                batch.status = "cancelled"
                batch.times["cancelled_at"] = int(time.time())
            return batch.describe()

    def cancel(self, batch_id: str) -> dict[str, Any]:
        """Cancels a batch not yet ended."""
        with self._lock:
            batch = self._batch(batch_id)
            if batch.status in ("validating", "in_progress"):
                batch.status = "cancelling"
                batch.times["cancelling_at"] = int(time.time())
            return batch.describe()

    def _batch(self, batch_id: str) -> _Batch:
        """The batch of ``batch_id`` (under the lock), or OpenAI's 404."""
        batch = self._batches.get(batch_id)
        if batch is None:
            raise BatchApiError(404, f"No batch found with id '{batch_id}'.")
        return batch

    def _file(self, file_id: str) -> _File:
        with self._lock:
            file = self._files.get(file_id)
        if file is None:
            raise BatchApiError(404, f"No such File object: {file_id}")
        return file

    # -- running a batch (under the lock) -----------------------------------------------

    @staticmethod
    def _validate(data: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """OpenAI's input file checks: problems (``{code, message, line}``) and the requests."""
        problems: list[dict[str, Any]] = []
        requests: list[dict[str, Any]] = []
        seen: set[str] = set()
        models: set[str] = set()
        for number, line in enumerate(data.decode("utf-8", "replace").split("\n"), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                problems.append({"code": "invalid_json_line", "message": "This line is not valid JSON.",
                                 "param": None, "line": number})
                continue
            body = item.get("body") if isinstance(item, dict) else None
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not custom_id or len(custom_id) > 512:
                problems.append({"code": "missing_required_parameter", "param": "custom_id",
                                 "message": "Each line needs a custom_id string.", "line": number})
            elif custom_id in seen:
                problems.append({"code": "duplicate_custom_id", "param": "custom_id", "line": number,
                                 "message": f"The custom_id {custom_id!r} is used more than once."})
            if item.get("method") != "POST" or item.get("url") != ENDPOINT or not isinstance(body, dict):
                problems.append({"code": "invalid_request", "param": "url", "line": number,
                                 "message": f"Each line must POST a body to {ENDPOINT}."})
                continue
            if MARKER_INVALID in _prompt_text(body):
                problems.append({"code": "invalid_request", "param": "body", "line": number,
                                 "message": "loopback: this request is marked invalid."})
            models.add(str(body.get("model")))
            seen.add(str(custom_id))
            requests.append(item)
        if len(models) > 1:
            problems.append({"code": "mixed_models", "param": "body.model", "line": None,
                             "message": f"Every request of a batch must use one model, found {sorted(models)}."})
        if len(requests) > MAX_REQUESTS:
            problems.append({"code": "too_many_requests", "param": None, "line": None,
                             "message": f"A batch holds at most {MAX_REQUESTS} requests."})
        if not requests and not problems:
            problems.append({"code": "empty_file", "param": None, "line": None,
                             "message": "The input file holds no request."})
        return problems, requests

    def _run(self, batch: _Batch) -> None:
        """Answers every request of ``batch`` and writes its output and error files."""
        _, requests = self._validate(self._files[batch.input_file_id].data)
        outputs: list[str] = []
        errors: list[str] = []
        expired = False
        for item in requests:
            custom_id, body = item["custom_id"], item["body"]
            line_id = "batch_req_" + hashlib.sha256(f"{batch.id}\x1f{custom_id}".encode()).hexdigest()[:24]
            self._counts["batch_requests"] += 1
            if MARKER_EXPIRE in _prompt_text(body):
                expired = True
                self._counts["batch_requests_expired"] += 1
                errors.append(json.dumps({"id": line_id, "custom_id": custom_id, "response": None, "error": {
                    "code": "batch_expired",
                    "message": "This request could not be executed before the completion window expired."}}))
                continue
            status, answer = self._answer(body)
            line = {"id": line_id, "custom_id": custom_id,
                    "response": {"status_code": status, "request_id": f"req_{line_id[10:]}", "body": answer},
                    "error": None}
            if status == 200:
                batch.completed += 1
                self._counts["batch_requests_ok"] += 1
                outputs.append(json.dumps(line, ensure_ascii=False))
            else:
                batch.failed += 1
                self._counts["batch_requests_failed"] += 1
                errors.append(json.dumps(line, ensure_ascii=False))
        now = int(time.time())
        batch.times["finalizing_at"] = now
        if outputs:
            batch.output_file_id = self._store(f"{batch.id}_output.jsonl", outputs)
        if errors:
            batch.error_file_id = self._store(f"{batch.id}_error.jsonl", errors)
        batch.status = "expired" if expired else "completed"
        batch.times["expired_at" if expired else "completed_at"] = now
        self._counts["batches_expired" if expired else "batches_completed"] += 1

    def _store(self, name: str, lines: list[str]) -> str:
        file = _File(self._next_id("file"), name, "batch_output", ("\n".join(lines) + "\n").encode("utf-8"),
                     int(time.time()))
        self._files[file.id] = file
        return file.id

    def stats(self) -> dict[str, int]:
        """``files_uploaded``, ``bytes_uploaded``, ``batches_created``, ``batches_completed``,
        ``batches_expired``, ``batches_failed``, ``batch_requests`` (requests run or expired),
        ``batch_requests_ok``, ``batch_requests_failed``, ``batch_requests_expired``, ``polls``,
        ``downloads``."""
        keys = ("files_uploaded", "bytes_uploaded", "batches_created", "batches_completed",
                "batches_expired", "batches_failed", "batch_requests", "batch_requests_ok",
                "batch_requests_failed", "batch_requests_expired", "polls", "downloads")
        with self._lock:
            return {key: self._counts.get(key, 0) for key in keys}

    def reset(self) -> None:
        """Zero the counters (files and batches stay, so a resumed job can still read them)."""
        with self._lock:
            self._counts.clear()
