"""The loopback server's Batch API, driven by the ``openai`` client as a user's code would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from dspex_testing import batch_api, lm_answers
from dspex_testing.lm_server_process import LMServerProcess

SYSTEM = "Your input fields are:\n1. `question` (str):\nYour output fields are:\n1. `answer` (str):\n"


@pytest.fixture(scope="module")
def server() -> Iterator[LMServerProcess]:
    with LMServerProcess(["--batch-delay-s", "0.3"]) as process:
        yield process


@pytest.fixture
def client(server: LMServerProcess) -> openai.OpenAI:
    return openai.OpenAI(api_key="loopback", base_url=server.api_base, max_retries=0)


def line(custom_id: str, question: str, model: str = "loopback") -> str:
    body = {"model": model, "messages": [{"role": "system", "content": SYSTEM},
                                         {"role": "user", "content": f"[[ ## question ## ]]\n{question}"}]}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})


def submit(client: openai.OpenAI, lines: list[str]) -> Any:
    uploaded = client.files.create(file=("in.jsonl", ("\n".join(lines) + "\n").encode(), "application/jsonl"),
                                   purpose="batch")
    assert uploaded.object == "file" and uploaded.purpose == "batch" and uploaded.bytes > 0
    return client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                 completion_window="24h", metadata={"test": "yes"})


def wait(client: openai.OpenAI, batch_id: str) -> Any:
    deadline = time.monotonic() + 10
    while True:
        batch = client.batches.retrieve(batch_id)
        if batch.status in ("completed", "failed", "expired", "cancelled") or time.monotonic() > deadline:
            return batch
        time.sleep(0.05)


def lines_of(client: openai.OpenAI, file_id: str | None) -> dict[str, dict[str, Any]]:
    if file_id is None:
        return {}
    return {item["custom_id"]: item for item in
            (json.loads(t) for t in client.files.content(file_id).text.splitlines() if t.strip())}


def test_a_batch_stays_in_progress_for_its_delay_then_completes_with_openais_shapes(
    client: openai.OpenAI, server: LMServerProcess
) -> None:
    started = time.monotonic()
    created = submit(client, [line("a", "What is the capital of France?"), line("b", "anything else")])
    assert created.status == "validating" and created.endpoint == "/v1/chat/completions"
    assert created.completion_window == "24h" and created.metadata == {"test": "yes"}
    status = client.batches.retrieve(created.id).status
    if time.monotonic() - started < 0.25:  # a loaded machine may take longer than the delay
        assert status == "in_progress"
    batch = wait(client, created.id)
    assert batch.status == "completed" and batch.error_file_id is None
    assert batch.request_counts.total == 2 and batch.request_counts.completed == 2
    output = lines_of(client, batch.output_file_id)
    assert set(output) == {"a", "b"}
    answer = output["a"]["response"]
    assert answer["status_code"] == 200 and output["a"]["error"] is None
    assert answer["body"]["object"] == "chat.completion" and answer["body"]["usage"]["prompt_tokens"] > 0
    assert "Paris" in answer["body"]["choices"][0]["message"]["content"]
    assert server.stats()["chat_calls"] == 0


def test_failed_and_expired_requests_go_to_the_error_file(client: openai.OpenAI) -> None:
    batch = wait(client, submit(client, [
        line("ok", "fine"), line("e500", f"boom {lm_answers.MARKER_500}"),
        line("late", f"slow {batch_api.MARKER_EXPIRE}")]).id)
    assert batch.status == "expired"
    assert set(lines_of(client, batch.output_file_id)) == {"ok"}
    errors = lines_of(client, batch.error_file_id)
    assert errors["e500"]["response"]["status_code"] == 500
    assert errors["late"]["response"] is None and errors["late"]["error"]["code"] == "batch_expired"


def test_an_input_file_that_does_not_validate_fails_the_batch_naming_the_lines(client: openai.OpenAI) -> None:
    batch = wait(client, submit(client, [line("x", "one"), line("x", "two"), line("y", "three", model="other")]).id)
    assert batch.status == "failed"
    codes = {e.code for e in batch.errors.data}
    assert {"duplicate_custom_id", "mixed_models"} <= codes
    assert any(e.line == 2 for e in batch.errors.data)


def test_unknown_ids_are_404_and_a_cancelled_batch_says_so(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch-nope")
    created = submit(client, [line("c", "cancel me")])
    client.batches.cancel(created.id)
    assert wait(client, created.id).status == "cancelled"
