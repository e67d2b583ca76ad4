"""OpenAI's Batch API through the ``openai`` package (hash-pinned in requirements.lock; litellm's).

Upload a JSONL file (``purpose="batch"``), create a batch over it (``completion_window="24h"``),
read the batch, download its output and error files, and read their lines into
:class:`~dspex_worker.predict.batch.engine.Answer`s. The client retries what the ``openai``
package retries (connection errors, 408, 409, 429, 5xx) with its backoff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from dspex_worker.predict.batch.engine import Answer, BatchRequestExpired, BatchRequestFailed
from dspex_worker.predict.batch.wire import RequestLine

#: The batch states after which a batch changes no more.
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
#: Retries of one Batch API call by the ``openai`` client.
MAX_RETRIES = 5
#: Seconds one Batch API HTTP call may take (an upload of 200 MB included).
HTTP_TIMEOUT_S = 600.0


class OpenAIBatches:
    """One OpenAI-shaped Batch API endpoint.

    Args:
        api_base: the API base (``https://api.openai.com/v1`` when None).
        api_key: the key; None: ``$OPENAI_API_KEY``.
    """

    def __init__(self, api_base: str | None, api_key: str | None) -> None:
        import openai

        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ValueError("batch mode needs an API key: set lm.api_key_env, or OPENAI_API_KEY")
        self.client = openai.OpenAI(api_key=key, base_url=api_base or None, max_retries=MAX_RETRIES,
                                    timeout=HTTP_TIMEOUT_S)
        self.api_error: type[Exception] = openai.OpenAIError
        self.not_found: type[Exception] = openai.NotFoundError

    def submit(self, lines: Sequence[RequestLine], endpoint: str, metadata: dict[str, str]) -> dict[str, Any]:
        """Uploads ``lines`` as one input file and creates a batch over it; returns the batch."""
        data = ("\n".join(line.json_line() for line in lines) + "\n").encode("utf-8")
        uploaded = self.client.files.create(file=("dspex-batch.jsonl", data, "application/jsonl"),
                                            purpose="batch")
        batch = self.client.batches.create(input_file_id=uploaded.id, endpoint=endpoint,  # type: ignore[arg-type]
                                           completion_window="24h", metadata=metadata)
        return batch.model_dump()

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        """The batch as the provider reports it now."""
        return self.client.batches.retrieve(batch_id).model_dump()

    def download(self, file_id: str) -> str:
        """A file's content as text."""
        return self.client.files.content(file_id).text

    def answers(self, batch: dict[str, Any]) -> dict[str, Answer]:
        """Every request's answer in ``batch``'s output and error files, by ``custom_id``."""
        found: dict[str, Answer] = {}
        for key in ("output_file_id", "error_file_id"):
            file_id = batch.get(key)
            if file_id:
                for text in self.download(file_id).splitlines():
                    if text.strip():
                        item = json.loads(text)
                        found[str(item.get("custom_id"))] = answer_of(item, batch["id"])
        return found


def answer_of(item: dict[str, Any], batch_id: str) -> Answer:
    """One line of an output or error file as an :class:`Answer`."""
    response = item.get("response") if isinstance(item.get("response"), dict) else None
    error = item.get("error") if isinstance(item.get("error"), dict) else None
    if response is not None:
        status = int(response.get("status_code") or 0)
        body = response.get("body") if isinstance(response.get("body"), dict) else {}
        if status == 200 and body:
            return Answer(body=body)
        detail = body.get("error") if isinstance(body.get("error"), dict) else {}
        message = detail.get("message") or json.dumps(body)[:500]
        return Answer(status=status, error_type=BatchRequestFailed,
                      message=f"batch {batch_id} answered HTTP {status}: {message}")
    code = (error or {}).get("code") or "unknown"
    message = (error or {}).get("message") or "no answer"
    kind = BatchRequestExpired if code == "batch_expired" else BatchRequestFailed
    return Answer(status=0, error_type=kind, message=f"batch {batch_id}: {code}: {message}")


def batch_errors(batch: dict[str, Any]) -> str:
    """What a failed batch's ``errors`` say (``line N: message``, joined)."""
    data = ((batch.get("errors") or {}).get("data")) or []
    parts = [f"line {e.get('line')}: {e.get('message')}" if e.get("line") else str(e.get("message"))
             for e in data if isinstance(e, dict)]
    return "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "") or "no reason given"
