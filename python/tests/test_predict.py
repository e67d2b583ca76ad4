"""The predict handler's pieces in process: LM and program setup, fields, per-element runs.

DummyLM (through ``lm_factory``) needs no server; the loopback server checks the
real ``dspy.LM`` path: typed outputs, retries, failures, usage and the cache.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

from dspex_worker.predict.fields import describe_type, plain_value
from dspex_worker.predict.lm import build_lm, load_object
from dspex_worker.predict.program import build_program
from dspex_worker.predict.runner import Outcome, PredictHandle, check_threads
from dspex_testing import lm_answers
from dspex_testing.client import PYTHON_ROOT
from dspex_testing.lm_server_process import LMServerProcess

SIGNATURE = "question, context: list[str] -> answer, confidence: float"
DUMMY = "dspex_testing.lms:dummy_lm"
QA = [json.loads(line) for line in
      (PYTHON_ROOT.parent / "testdata" / "qa" / "qa.jsonl").read_text().splitlines()]


def handle_for(lm_spec: dict[str, Any], threads: int = 4, **program_args: Any) -> PredictHandle:
    lm, _ = build_lm(lm_spec)
    program, inputs, outputs = build_program({"signature": SIGNATURE, **program_args})
    return PredictHandle(program, lm, inputs, outputs, threads)


def run_all(handle: PredictHandle, records: list[Any], threads: int | None = None) -> list[Outcome]:
    emitted: list[list[Outcome]] = []
    handle.run(records, emitted.append, threads)
    outcomes = [o for group in emitted for o in group]
    assert sorted(o.index for o in outcomes) == list(range(len(records)))
    return sorted(outcomes, key=lambda o: o.index)


# -- fields ---------------------------------------------------------------------------


def test_field_types_are_described_as_java_can_map_them() -> None:
    assert describe_type(str) == {"type": "str"}
    assert describe_type(list[str]) == {"type": "list[str]"}
    assert describe_type(float) == {"type": "float"} and describe_type(bool) == {"type": "bool"}
    assert describe_type(Literal["yes", "no"]) == {"type": "str", "values": ["yes", "no"]}
    assert describe_type(Optional[int]) == {"type": "int", "nullable": True}  # noqa: UP045
    assert describe_type(dict[str, int]) == {"type": "json"}
    assert plain_value(3, "float") == 3.0 and isinstance(plain_value(3, "float"), float)


def test_a_signature_program_describes_its_fields() -> None:
    _, inputs, outputs = build_program({"signature": "question, context: list[str] -> answer, "
                                        "confidence: float, ok: bool, n: int, tags: list[str]"})
    assert inputs == [{"name": "question", "type": "str"}, {"name": "context", "type": "list[str]"}]
    assert [(f["name"], f["type"]) for f in outputs] == [
        ("answer", "str"), ("confidence", "float"), ("ok", "bool"), ("n", "int"), ("tags", "list[str]")]


def test_chain_of_thought_adds_reasoning_to_the_outputs() -> None:
    _, _, outputs = build_program({"signature": "question -> answer", "predictor": "chain_of_thought"})
    assert [f["name"] for f in outputs] == ["reasoning", "answer"]


@pytest.mark.parametrize("args, message", [
    ({}, "exactly one of"),
    ({"signature": "q -> a", "program": "x:y"}, "exactly one of"),
    ({"signature": "no arrow"}, "signature must be"),
    ({"signature": "q -> a", "predictor": "react"}, "predictor must be"),
    ({"signature": "q -> a", "program_state": "/no/such/file.json"}, "program_state"),
])
def test_bad_program_args_are_refused(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_program(args)


def test_bad_lm_args_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="unknown lm keys"):
        build_lm({"model": "openai/x", "max_token": 3})
    with pytest.raises(ValueError, match="lm.model is required"):
        build_lm({})
    monkeypatch.delenv("DSPEX_NOT_SET", raising=False)
    with pytest.raises(ValueError, match="DSPEX_NOT_SET.*not set"):
        build_lm({"model": "openai/x", "api_key_env": "DSPEX_NOT_SET"})
    with pytest.raises(ValueError, match="module:attribute"):
        load_object("no_colon", "lm.lm_factory")
    with pytest.raises(ValueError, match="threads"):
        check_threads(0, "threads")


# -- DummyLM -------------------------------------------------------------------------


def test_dummy_lm_through_lm_factory_gives_typed_outputs_and_per_element_failures() -> None:
    handle = handle_for({"lm_factory": DUMMY, "cache": False, "factory_args": {
        "answers": {"capital of France": {"answer": "Paris", "confidence": "0.9"}},
        "default": {"answer": "unknown", "confidence": "0.25"}}})
    outcomes = run_all(handle, [
        {"question": "What is the capital of France?", "context": ["Europe"]},
        {"question": "Anything else?", "context": []},
        {"question": None, "context": []},
        {"context": ["no question"]},
        "not a record",
    ])
    assert outcomes[0].output == {"answer": "Paris", "confidence": 0.9}
    assert outcomes[1].output == {"answer": "unknown", "confidence": 0.25}
    assert isinstance(outcomes[1].output["confidence"], float)
    for outcome in outcomes[2:4]:
        assert outcome.failure["type"] == "MissingInput" and "'question'" in outcome.failure["message"]
    assert outcomes[4].failure["type"] == "MissingInput"
    assert outcomes[0].usage["calls"] == 1 and outcomes[2].usage["calls"] == 0


def test_a_raising_user_program_fails_only_its_element(tmp_path: Path) -> None:
    lm, _ = build_lm({"lm_factory": DUMMY, "cache": False,
                      "factory_args": {"default": {"answer": "fine"}}})
    program, inputs, outputs = build_program({"program": "dspex_testing.lms:failing_program"})
    assert inputs == [{"name": "question", "type": "str"}]
    assert outputs == [{"name": "answer", "type": "str"}]
    outcomes = run_all(PredictHandle(program, lm, inputs, outputs, 2),
                       [{"question": "ok"}, {"question": "boom now"}, {"question": "ok too"}])
    assert outcomes[0].output == {"answer": "fine"} and outcomes[2].output == {"answer": "fine"}
    assert outcomes[1].failure["type"] == "RuntimeError" and "boom" in outcomes[1].failure["message"]


def test_an_answer_no_format_can_carry_fails_only_its_element() -> None:
    lm, _ = build_lm({"lm_factory": "dspex_testing.lms:half_surrogate_lm", "cache": False,
                      "factory_args": {"on": "emoji", "default": {"answer": "fine", "n": "7"}}})
    program, inputs, outputs = build_program({"signature": "question -> answer, n: int"})
    huge = build_lm({"lm_factory": DUMMY, "cache": False,
                     "factory_args": {"default": {"answer": "big", "n": str(2**70)}}})[0]
    handle = PredictHandle(program, lm, inputs, outputs, 2)
    outcomes = run_all(handle, [{"question": "plain"}, {"question": "an emoji please"}])
    assert outcomes[0].output == {"answer": "fine", "n": 7}
    failure = outcomes[1].failure
    assert failure["type"] == "OutputEncodingError"
    assert failure["message"].startswith("outputs.answer: string has an unpaired surrogate")
    # The answer is in the message, escaped, so the message itself encodes.
    assert "'fine \\ud83d'" in failure["message"]
    failure["message"].encode("utf-8")
    assert outcomes[1].usage["calls"] == 1  # the LM call was made and is counted
    too_big = run_all(PredictHandle(program, huge, inputs, outputs, 2), [{"question": "count"}])[0]
    assert too_big.failure["type"] == "OutputEncodingError"
    assert "outputs.n: integer 1180591620717411303424 is outside" in too_big.failure["message"]


def test_the_lm_free_failing_program_answers_without_an_lm_call() -> None:
    lm, _ = build_lm({"lm_factory": DUMMY, "cache": False,
                      "factory_args": {"default": {"answer": "from the lm"}}})
    program, inputs, outputs = build_program({"program": "dspex_testing.lms:failing_program",
                                              "program_args": {"lm_free": True}})
    outcomes = run_all(PredictHandle(program, lm, inputs, outputs, 2),
                       [{"question": "ok"}, {"question": "boom now"}])
    assert outcomes[0].output == {"answer": "OK"} and outcomes[0].usage["calls"] == 0
    assert outcomes[1].failure["type"] == "RuntimeError"


def test_a_user_program_from_python_path_with_saved_state(tmp_path: Path) -> None:
    (tmp_path / "my_qa_program.py").write_text(
        "import dspy\n\n"
        "class Pipeline(dspy.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.rewrite = dspy.Predict('question -> query')\n"
        "        self.answer = dspy.Predict('query, question -> answer, score: float')\n"
        "    def forward(self, question):\n"
        "        query = self.rewrite(question=question).query\n"
        "        return self.answer(query=query, question=question)\n\n"
        "def make():\n"
        "    return Pipeline()\n"
    )
    import dspy

    sys_path_dir = str(tmp_path)
    program, inputs, outputs = build_program({"program": "my_qa_program:make",
                                              "python_path": [sys_path_dir]})
    assert inputs == [{"name": "question", "type": "str"}]
    assert outputs == [{"name": "answer", "type": "str"}, {"name": "score", "type": "float"}]
    # Save a state with changed instructions; a new setup loads it.
    program.answer.signature = program.answer.signature.with_instructions("Answer tersely.")
    state = tmp_path / "state.json"
    program.save(str(state))
    loaded, _, _ = build_program({"program": "my_qa_program:make", "python_path": [sys_path_dir],
                                  "program_state": str(state)})
    assert loaded.answer.signature.instructions == "Answer tersely."
    lm, _ = build_lm({"lm_factory": DUMMY, "cache": False, "factory_args": {
        "answers": {"[[ ## query ## ]]\nQ": {"answer": "A", "score": "0.5"}},
        "default": {"query": "Q"}}})
    outcome = run_all(PredictHandle(loaded, lm, inputs, outputs, 1), [{"question": "why?"}])[0]
    assert outcome.output == {"answer": "A", "score": 0.5} and outcome.usage["calls"] == 2
    assert isinstance(dspy.Module, type)


def test_elements_run_concurrently_and_are_emitted_as_they_complete() -> None:
    handle = handle_for({"lm_factory": DUMMY, "cache": False,
                         "factory_args": {"default": {"answer": "a", "confidence": "1"}}}, threads=8)
    emitted: list[list[int]] = []
    records = [{"question": f"q{i}", "context": []} for i in range(40)]
    handle.run(records, lambda group: emitted.append([o.index for o in group]))
    flat = [i for group in emitted for i in group]
    assert sorted(flat) == list(range(40)) and len(flat) == 40
    assert all(group == sorted(group) for group in emitted)


def test_concurrent_requests_share_the_handles_threads() -> None:
    handle = handle_for({"lm_factory": DUMMY, "cache": False}, threads=3)
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def program(**kwargs: Any) -> dict[str, Any]:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return {"answer": kwargs["question"], "confidence": 1.0}

    handle.program = program
    results: list[list[Outcome]] = [[], []]
    records = [{"question": f"q{i}", "context": []} for i in range(12)]
    threads = [threading.Thread(target=lambda r=r: results[r].extend(run_all(handle, records)))
               for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [[o.output["answer"] for o in r] for r in results] == [[f"q{i}" for i in range(12)]] * 2
    assert running[1] <= 3  # the setup's threads bound the whole worker, not each request


# -- loopback server -----------------------------------------------------------------


def loopback(server: LMServerProcess, key: str, **extra: Any) -> dict[str, Any]:
    return {"model": "openai/loopback", "api_base": server.api_base, "api_key_env": key,
            "cache": False, "num_retries": 2, **extra}


def test_loopback_answers_the_qa_set_with_typed_values(server: LMServerProcess, key: str) -> None:
    handle = handle_for(loopback(server, key), threads=8)
    outcomes = run_all(handle, [{"question": r["question"], "context": ["c"]} for r in QA])
    for record, outcome in zip(QA, outcomes):
        assert outcome.failure is None, outcome.failure
        assert outcome.output["answer"] == record["answer"]
        assert isinstance(outcome.output["confidence"], float)
        assert outcome.usage["calls"] == 1 and outcome.usage["prompt_tokens"] > 0
        assert outcome.usage["completion_tokens"] > 0


def test_loopback_typed_outputs_of_every_kind(server: LMServerProcess, key: str) -> None:
    lm, _ = build_lm(loopback(server, key))
    program, inputs, outputs = build_program({"signature": "question -> answer, ok: bool, n: int, "
                                              "tags: list[str], label: Literal['yes', 'no']"})
    assert outputs[-1] == {"name": "label", "type": "str", "values": ["yes", "no"]}
    outcome = run_all(PredictHandle(program, lm, inputs, outputs), [{"question": "types?"}])[0]
    values = outcome.output
    assert isinstance(values["ok"], bool) and isinstance(values["n"], int)
    assert isinstance(values["tags"], list) and all(isinstance(t, str) for t in values["tags"])
    assert values["label"] in ("yes", "no")


def test_loopback_429_is_retried_and_succeeds(server: LMServerProcess, key: str) -> None:
    handle = handle_for(loopback(server, key))
    before = server.stats()
    outcome = run_all(handle, [{"question": f"{lm_answers.MARKER_429} {time.time()}", "context": []}])[0]
    after = server.stats()
    assert outcome.failure is None and outcome.usage["calls"] == 1
    assert after["errors_429"] - before["errors_429"] == 1 and after["ok"] - before["ok"] == 1


def test_loopback_failures_are_per_element(server: LMServerProcess, key: str) -> None:
    handle = handle_for(loopback(server, key, num_retries=0))
    outcomes = run_all(handle, [
        {"question": "What is the capital of Italy?", "context": []},
        {"question": f"x {lm_answers.MARKER_MALFORMED}", "context": []},
        {"question": f"y {lm_answers.MARKER_500}", "context": []},
        {"question": f"z {lm_answers.MARKER_429_ALWAYS}", "context": []},
    ])
    assert outcomes[0].output["answer"] == "Rome"
    assert outcomes[1].failure["type"] == "AdapterParseError"
    # Unparseable output still used tokens: ChatAdapter's call and JSONAdapter's retry.
    assert outcomes[1].usage["calls"] == 2 and outcomes[1].usage["prompt_tokens"] > 0
    assert "500" in outcomes[2].failure["message"] or "server" in outcomes[2].failure["type"].lower()
    assert "rate" in (outcomes[3].failure["type"] + outcomes[3].failure["message"]).lower()


def test_loopback_cache_makes_a_second_identical_run_free(
    server: LMServerProcess, key: str, tmp_path: Path
) -> None:
    handle = handle_for(loopback(server, key, cache=True, cache_dir=str(tmp_path / "cache")))
    records = [{"question": f"cached question {i} {time.time()}", "context": []} for i in range(5)]
    before = server.stats()["chat_calls"]
    first = run_all(handle, records)
    middle = server.stats()["chat_calls"]
    second = run_all(handle, records)
    assert middle - before == 5 and server.stats()["chat_calls"] == middle
    assert [o.output for o in first] == [o.output for o in second]
    assert sum(o.usage["calls"] for o in second) == 0
    assert any((tmp_path / "cache").iterdir())
