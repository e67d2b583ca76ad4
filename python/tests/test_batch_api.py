"""Batch mode of the predict kind against the loopback server's real Batch API endpoints.

Each test sets a handle up as ``setup`` does (``PredictKind.load_model`` with a ``batch_api``
map) and runs requests through it; the server's counters (files uploaded, batches created,
requests run, live calls) show what was submitted, and its files what the worker wrote.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dspex_worker.kinds.base import Outcome
from dspex_worker.predict.batch.settings import BatchApiSettings
from dspex_worker.predict.kind import PredictKind
from dspex_worker.predict.runner import PredictHandle
from dspex_testing import batch_api, lm_answers
from dspex_testing.client import PYTHON_ROOT
from dspex_testing.lm_server_process import LMServerProcess

QA = [json.loads(line) for line in
      (PYTHON_ROOT.parent / "testdata" / "qa" / "qa.jsonl").read_text().splitlines()]
#: A batch completes this long after it was created.
DELAY_S = 0.3
#: The batches of ``slow_server`` complete this long after they were created: far longer than a
#: loaded runner takes to upload, create and poll once, so a test's wait of ``WAIT_S`` always
#: ends first (with ``DELAY_S`` a slow first poll could already find the batch completed).
SLOW_DELAY_S = 4.0
WAIT_S = 0.05


@pytest.fixture(scope="module")
def server() -> Iterator[LMServerProcess]:
    """A loopback server whose batches complete after ``DELAY_S``."""
    with LMServerProcess(["--batch-delay-s", str(DELAY_S)]) as process:
        yield process


@pytest.fixture(scope="module")
def slow_server() -> Iterator[LMServerProcess]:
    """A loopback server whose batches complete after ``SLOW_DELAY_S``."""
    with LMServerProcess(["--batch-delay-s", str(SLOW_DELAY_S)]) as process:
        yield process


def lm_spec(server: LMServerProcess, key: str, **extra: Any) -> dict[str, Any]:
    return {"model": "openai/loopback", "api_base": server.api_base, "api_key_env": key, "cache": False, **extra}


def setup(server: LMServerProcess, key: str, *, lm: dict[str, Any] | None = None, signature: str = "question -> answer",
          **batch: Any) -> PredictHandle:
    """A batch-mode handle, set up as the worker's ``setup`` does."""
    args: dict[str, Any] = {"signature": signature, "lm": lm or lm_spec(server, key), "threads": 4,
                            "batch_api": {"poll_interval_s": 0.05, "timeout_s": 30, **batch}}
    return PredictKind().load_model(args, logging.getLogger("test")).value


def run_all(handle: PredictHandle, records: list[Any]) -> list[Outcome]:
    emitted: list[list[Outcome]] = []
    handle.run(records, emitted.append)
    outcomes = [o for group in emitted for o in group]
    assert sorted(o.index for o in outcomes) == list(range(len(records))), "every element once"
    return sorted(outcomes, key=lambda o: o.index)


def batch_stats(server: LMServerProcess) -> dict[str, int]:
    return server.stats()["batch"]


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after}


def get_json(server: LMServerProcess, path: str) -> Any:
    with urllib.request.urlopen(f"{server.base_url}{path}", timeout=10) as response:
        return json.loads(response.read())


def input_lines(server: LMServerProcess, batch_id: str) -> list[dict[str, Any]]:
    """The request lines of a batch's input file, as the server received them."""
    file_id = get_json(server, f"/v1/batches/{batch_id}")["input_file_id"]
    with urllib.request.urlopen(f"{server.base_url}/v1/files/{file_id}/content", timeout=10) as response:
        return [json.loads(line) for line in response.read().decode().splitlines() if line.strip()]


def latest_batch(server: LMServerProcess) -> dict[str, Any]:
    return get_json(server, "/v1/batches")["data"][0]


def unique(text: str) -> str:
    """A question no other test (or earlier run) asked."""
    return f"{text} {time.time_ns()}"


# -- the path that works --------------------------------------------------------------


def test_a_batch_answers_every_element_with_the_known_answers_and_no_live_call(
    server: LMServerProcess, key: str
) -> None:
    handle = setup(server, key)
    records = [{"question": r["question"]} for r in QA[:6]]
    before, live_before = batch_stats(server), server.stats()["chat_calls"]
    outcomes = run_all(handle, records)
    for record, outcome in zip(QA, outcomes):
        assert outcome.failure is None, outcome.failure
        assert outcome.output == {"answer": record["answer"]}
        assert outcome.usage["calls"] == 1 and outcome.usage["prompt_tokens"] > 0
    moved = delta(before, batch_stats(server))
    assert moved["files_uploaded"] == 1 and moved["batches_created"] == 1
    assert moved["batch_requests"] == 6 and moved["batch_requests_ok"] == 6
    assert server.stats()["chat_calls"] == live_before, "batch mode makes no live call"
    lines = input_lines(server, latest_batch(server)["id"])
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    assert {line["method"] for line in lines} == {"POST"}
    assert len({line["custom_id"] for line in lines}) == 6


def test_the_batch_request_body_is_what_the_live_call_sends(server: LMServerProcess, key: str) -> None:
    question = unique("What is the capital of France?")
    live = PredictKind().load_model({"signature": "question -> answer", "lm": lm_spec(server, key, temperature=0.3,
                                                                                     max_tokens=300)},
                                    logging.getLogger("test")).value
    answered_live = run_all(live, [{"question": question}])[0]
    assert answered_live.failure is None
    sent_live = server.requests()[-1]
    handle = setup(server, key, lm=lm_spec(server, key, temperature=0.3, max_tokens=300))
    assert run_all(handle, [{"question": question}])[0].output == answered_live.output
    (line,) = input_lines(server, latest_batch(server)["id"])
    assert line["body"] == sent_live
    assert line["body"]["temperature"] == 0.3 and line["body"]["model"] == "loopback"


def test_equal_requests_are_submitted_once_and_paid_once(server: LMServerProcess, key: str) -> None:
    handle = setup(server, key)
    same = unique("a question asked twice")
    before = batch_stats(server)
    outcomes = run_all(handle, [{"question": same}, {"question": unique("another")}, {"question": same}])
    assert [o.failure for o in outcomes] == [None, None, None]
    assert outcomes[0].output == outcomes[2].output
    assert delta(before, batch_stats(server))["batch_requests"] == 2
    assert sum(o.usage["calls"] for o in outcomes) == 2, "the shared answer's tokens count once"


def test_requests_past_max_requests_per_batch_go_into_further_batches(server: LMServerProcess, key: str) -> None:
    handle = setup(server, key, max_requests_per_batch=2)
    before = batch_stats(server)
    outcomes = run_all(handle, [{"question": unique(f"q{i}")} for i in range(5)])
    assert all(o.failure is None for o in outcomes)
    moved = delta(before, batch_stats(server))
    assert moved["batches_created"] == 3 and moved["batch_requests"] == 5


# -- failures -------------------------------------------------------------------------


def test_failed_and_expired_requests_fail_their_elements_only(server: LMServerProcess, key: str) -> None:
    handle = setup(server, key)
    outcomes = run_all(handle, [
        {"question": "What is the capital of Italy?"},
        {"question": unique(f"x {lm_answers.MARKER_500}")},
        {"question": unique(f"y {batch_api.MARKER_EXPIRE}")},
    ])
    assert outcomes[0].output == {"answer": "Rome"}
    assert outcomes[1].failure["type"] == "BatchRequestFailed"
    assert "HTTP 500" in outcomes[1].failure["message"] and "batch-loopback-" in outcomes[1].failure["message"]
    assert outcomes[2].failure["type"] == "BatchRequestExpired"
    assert "batch_expired" in outcomes[2].failure["message"]
    assert latest_batch(server)["status"] == "expired"


def test_an_unparseable_answer_takes_the_json_retry_in_a_second_round_then_fails(
    server: LMServerProcess, key: str
) -> None:
    handle = setup(server, key)
    before = batch_stats(server)
    outcomes = run_all(handle, [{"question": unique(f"z {lm_answers.MARKER_MALFORMED}")},
                                {"question": "What is the capital of Spain?"}])
    assert outcomes[0].failure["type"] == "AdapterParseError"
    assert outcomes[0].usage["calls"] == 2, "ChatAdapter's answer and JSONAdapter's, both paid"
    assert outcomes[1].output == {"answer": "Madrid"}
    moved = delta(before, batch_stats(server))
    assert moved["batches_created"] == 2 and moved["batch_requests"] == 3


def test_a_batch_that_fails_validation_fails_its_elements_naming_the_line(server: LMServerProcess, key: str) -> None:
    handle = setup(server, key)
    outcomes = run_all(handle, [{"question": unique(f"v {batch_api.MARKER_INVALID}")}, {"question": unique("w")}])
    for outcome in outcomes:
        assert outcome.failure["type"] == "BatchFailed", outcome
        assert "line " in outcome.failure["message"] and "marked invalid" in outcome.failure["message"]


def test_a_batch_that_outlasts_the_timeout_fails_its_elements_as_batch_timeout(
    slow_server: LMServerProcess, key: str, tmp_path: Path
) -> None:
    handle = setup(slow_server, key, timeout_s=WAIT_S, state_file=str(tmp_path / "out.batches.json"))
    outcomes = run_all(handle, [{"question": unique("slow")}])
    assert outcomes[0].failure["type"] == "BatchTimeout"
    assert "batch_api.timeout_s" in outcomes[0].failure["message"]


# -- the cache ------------------------------------------------------------------------


def test_elements_in_the_lm_cache_are_not_submitted_and_batch_answers_fill_the_cache(
    server: LMServerProcess, key: str, tmp_path: Path
) -> None:
    cache = lm_spec(server, key, cache=True, cache_dir=str(tmp_path / "cache"))
    warm, cold = unique("warmed by a live call"), unique("answered by a batch")
    live = PredictKind().load_model({"signature": "question -> answer", "lm": cache}, logging.getLogger("t")).value
    run_all(live, [{"question": warm}])
    before, live_before = batch_stats(server), server.stats()["chat_calls"]
    outcomes = run_all(setup(server, key, lm=cache), [{"question": warm}, {"question": cold}])
    assert all(o.failure is None for o in outcomes)
    assert outcomes[0].usage["calls"] == 0, "answered from the cache"
    assert delta(before, batch_stats(server))["batch_requests"] == 1
    (line,) = input_lines(server, latest_batch(server)["id"])
    assert warm not in json.dumps(line) and cold in json.dumps(line)
    # The batch's answer is in the cache under the live call's key: a live run pays nothing.
    again = run_all(live, [{"question": cold}])
    assert again[0].output == outcomes[1].output and again[0].usage["calls"] == 0
    assert server.stats()["chat_calls"] == live_before


# -- resuming -------------------------------------------------------------------------


def test_a_rerun_with_the_state_file_picks_up_the_batch_instead_of_submitting_again(
    slow_server: LMServerProcess, key: str, tmp_path: Path
) -> None:
    state = tmp_path / "answers.jsonl.batches.json"
    records = [{"question": QA[i]["question"] + f" ({time.time_ns()})"} for i in range(3)]
    before = batch_stats(slow_server)
    # The first run stops waiting long before the batch completes (as a killed job would).
    first = run_all(setup(slow_server, key, timeout_s=WAIT_S, state_file=str(state)), records)
    assert {o.failure["type"] for o in first} == {"BatchTimeout"}
    recorded = json.loads(state.read_text())
    assert recorded["format"] == "dspex-batches" and len(recorded["batches"]) == 1
    (entry,) = recorded["batches"]
    assert entry["status"] in ("validating", "in_progress") and len(entry["custom_ids"]) == 3
    assert entry["input_file_id"] and entry["endpoint"] == "/v1/chat/completions"
    second = run_all(setup(slow_server, key, state_file=str(state)), records)
    assert all(o.failure is None for o in second), [o.failure for o in second]
    moved = delta(before, batch_stats(slow_server))
    assert moved["files_uploaded"] == 1 and moved["batches_created"] == 1, "no second submission"
    assert moved["batch_requests"] == 3
    assert json.loads(state.read_text())["batches"][0]["status"] == "completed"


def test_a_recorded_batch_that_expired_gets_its_unanswered_requests_submitted_again(
    server: LMServerProcess, key: str, tmp_path: Path
) -> None:
    state = tmp_path / "expired.batches.json"
    handle = setup(server, key, state_file=str(state))
    ok, doomed = unique("answered before the expiry"), unique(f"never run {batch_api.MARKER_EXPIRE}")
    first = run_all(handle, [{"question": ok}, {"question": doomed}])
    assert first[0].failure is None and first[1].failure["type"] == "BatchRequestExpired"
    before = batch_stats(server)
    # A new run (a new worker) with the same state file: the answered request comes from the
    # recorded batch's output; the expired one is submitted again (and expires again here).
    second = run_all(setup(server, key, state_file=str(state)), [{"question": ok}, {"question": doomed}])
    assert second[0].output == first[0].output
    assert second[1].failure["type"] == "BatchRequestExpired"
    moved = delta(before, batch_stats(server))
    assert moved["batches_created"] == 1 and moved["batch_requests"] == 1


# -- programs of several steps ----------------------------------------------------------


def test_a_program_of_two_predictors_runs_in_two_rounds(server: LMServerProcess, key: str) -> None:
    import dspy

    class TwoSteps(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.draft = dspy.Predict("question -> draft")
            self.answer = dspy.Predict("question, draft -> answer")

        def forward(self, question: str) -> Any:
            draft = self.draft(question=question).draft
            return self.answer(question=question, draft=draft)

    handle = setup(server, key)
    handle.program = TwoSteps()
    before = batch_stats(server)
    outcomes = run_all(handle, [{"question": QA[0]["question"]}, {"question": QA[1]["question"]}])
    assert [o.output["answer"] for o in outcomes] == [QA[0]["answer"], QA[1]["answer"]]
    assert [o.usage["calls"] for o in outcomes] == [2, 2]
    moved = delta(before, batch_stats(server))
    assert moved["batches_created"] == 2 and moved["batch_requests"] == 4


def test_an_element_needing_more_rounds_than_max_rounds_fails_as_batch_rounds_exceeded(
    server: LMServerProcess, key: str
) -> None:
    handle = setup(server, key, max_rounds=1)
    outcomes = run_all(handle, [{"question": unique(f"m {lm_answers.MARKER_MALFORMED}")}])
    assert outcomes[0].failure["type"] == "BatchRoundsExceeded"
    assert "max_rounds=1" in outcomes[0].failure["message"]


# -- settings -------------------------------------------------------------------------


def test_batch_api_settings_are_checked_by_key() -> None:
    assert BatchApiSettings.from_setup({}).poll_interval_s == 30.0
    with pytest.raises(ValueError, match="unknown batch_api keys"):
        BatchApiSettings.from_setup({"poll_interval": 1})
    with pytest.raises(ValueError, match="Anthropic"):
        BatchApiSettings.from_setup({"provider": "anthropic"})
    with pytest.raises(ValueError, match="batch_api.max_requests_per_batch"):
        BatchApiSettings.from_setup({"max_requests_per_batch": 50_001})
    with pytest.raises(ValueError, match="batch_api.timeout_s"):
        BatchApiSettings.from_setup({"timeout_s": 0})
    with pytest.raises(ValueError, match="does not exist"):
        BatchApiSettings.from_setup({"state_file": "/no/such/folder/x.batches.json"})


def test_batch_mode_refuses_an_lm_it_cannot_batch(server: LMServerProcess, key: str) -> None:
    with pytest.raises(ValueError, match="batch mode needs a dspy.LM"):
        setup(server, key, lm={"lm_factory": "dspex_testing.lms:dummy_lm"})
