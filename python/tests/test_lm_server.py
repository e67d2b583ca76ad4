"""The loopback LM server: DSPy-format answers, QA answers, misbehaviour on demand, stats."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from dspex_testing import lm_answers
from dspex_testing.client import PYTHON_ROOT, child_env
from dspex_testing.lm_server_process import LMServerProcess

QA_PATH = PYTHON_ROOT.parent / "testdata" / "qa" / "qa.jsonl"

SYSTEM = """Your input fields are:
1. `question` (str):
Your output fields are:
1. `answer` (str):
2. `confidence` (float):
3. `ok` (bool):
4. `count` (int):
5. `tags` (list[str]):
6. `label` (Literal['yes', 'no']):
All interactions will be structured in the following way, with the appropriate values filled in."""


def user(question: str) -> str:
    return f"[[ ## question ## ]]\n{question}\n\nRespond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`."


def chat(server: LMServerProcess, question: str, **extra: Any) -> tuple[int, Any, dict[str, str]]:
    body = {"model": "loopback", "messages": [{"role": "system", "content": SYSTEM},
                                              {"role": "user", "content": user(question)}], **extra}
    return post(server, "/v1/chat/completions", body)


def get(server: LMServerProcess, path: str) -> tuple[int, Any, dict[str, str]]:
    with urllib.request.urlopen(f"{server.base_url}{path}", timeout=10) as response:
        return response.status, json.loads(response.read()), dict(response.headers)


def post(server: LMServerProcess, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
    request = urllib.request.Request(f"{server.base_url}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def blocks(text: str) -> dict[str, str]:
    return {m["name"]: m["value"].strip() for m in lm_answers._BLOCK.finditer(text)}


def test_answers_in_chat_adapter_format_with_typed_values(server: LMServerProcess) -> None:
    status, reply, _ = chat(server, "Why is the sky blue?")
    assert status == 200
    text = reply["choices"][0]["message"]["content"]
    fields = blocks(text)
    assert list(fields) == ["answer", "confidence", "ok", "count", "tags", "label"]
    assert text.endswith("[[ ## completed ## ]]")
    assert 0.0 <= float(fields["confidence"]) < 1.0
    assert fields["ok"] in ("True", "False") and fields["count"].isdigit()
    assert all(isinstance(tag, str) for tag in json.loads(fields["tags"]))
    assert fields["label"] in ("yes", "no")
    assert reply["usage"]["prompt_tokens"] > 0 and reply["usage"]["completion_tokens"] > 0
    # Deterministic: the same prompt, the same answer.
    assert chat(server, "Why is the sky blue?")[1]["choices"][0]["message"]["content"] == text


def test_answers_every_known_question_of_the_qa_set(server: LMServerProcess) -> None:
    records = [json.loads(line) for line in QA_PATH.read_text().splitlines() if line.strip()]
    assert len(records) >= 50
    for record in records:
        text = chat(server, record["question"])[1]["choices"][0]["message"]["content"]
        assert blocks(text)["answer"] == record["answer"], record


def test_json_adapter_prompts_get_a_json_object(server: LMServerProcess) -> None:
    _, reply, _ = chat(server, "What is the capital of Japan?", response_format={"type": "json_object"})
    values = json.loads(reply["choices"][0]["message"]["content"])
    assert values["answer"] == "Tokyo" and isinstance(values["confidence"], float)


def test_429_marker_fails_the_first_attempt_only(server: LMServerProcess) -> None:
    question = f"retry me {time.time()} {lm_answers.MARKER_429}"
    status, reply, headers = chat(server, question)
    assert status == 429 and headers["Retry-After"] == "0" and "rate" in reply["error"]["message"]
    assert chat(server, question)[0] == 200


def test_always_429_500_and_malformed_markers(server: LMServerProcess) -> None:
    assert [chat(server, f"x {lm_answers.MARKER_429_ALWAYS}")[0] for _ in range(2)] == [429, 429]
    assert [chat(server, f"x {lm_answers.MARKER_500}")[0] for _ in range(2)] == [500, 500]
    status, reply, _ = chat(server, f"x {lm_answers.MARKER_MALFORMED}")
    assert status == 200 and reply["choices"][0]["message"]["content"] == lm_answers.MALFORMED_TEXT


def test_embeddings_are_deterministic_unit_vectors(server: LMServerProcess) -> None:
    status, reply, _ = post(server, "/v1/embeddings", {"model": "e", "input": ["a", "b", "a"]})
    assert status == 200
    vectors = [item["embedding"] for item in reply["data"]]
    assert len(vectors[0]) == 32 and vectors[0] == vectors[2] and vectors[0] != vectors[1]
    assert abs(sum(v * v for v in vectors[1]) - 1.0) < 1e-9
    assert reply["usage"]["prompt_tokens"] == 3


def test_stats_count_calls_and_reset_zeroes_them() -> None:
    with LMServerProcess() as server:
        chat(server, "one")
        chat(server, f"two {lm_answers.MARKER_500}")
        post(server, "/v1/embeddings", {"input": "three"})
        stats = server.stats()
        assert stats["calls"] == 3 and stats["chat_calls"] == 2 and stats["embedding_calls"] == 1
        assert stats["errors_500"] == 1 and stats["ok"] == 2
        _, reply, _ = chat(server, "five")
        usage = reply["usage"]
        after = server.stats()
        assert after["prompt_tokens"] == stats["prompt_tokens"] + usage["prompt_tokens"] > 0
        assert after["completion_tokens"] == stats["completion_tokens"] + usage["completion_tokens"]
        assert 0 < stats["first_call_s"] <= stats["last_call_s"] <= stats["uptime_s"]
        server.reset()
        assert server.stats()["calls"] == 0
        assert server.stats()["first_call_s"] is None and server.stats()["last_call_s"] is None
        chat(server, "four")
        assert server.close() == 0
    final = json.loads(server.stderr().strip().splitlines()[-1])
    assert final["lm_server_stats"]["calls"] == 1


def test_stats_count_distinct_and_repeated_chat_prompts() -> None:
    with LMServerProcess() as server:
        for prompt in ("one", "two", "one", "three", "one"):
            chat(server, prompt)
        stats = server.stats()
        assert stats["distinct_chat_requests"] == 3 and stats["repeated_chat_requests"] == 1
        status, reply, _ = get(server, "/repeats")
        assert status == 200 and [r["calls"] for r in reply["repeats"]] == [3]
        assert 0 < reply["repeats"][0]["first_answer_s"] <= stats["uptime_s"]


def test_call_times_span_the_calls() -> None:
    with LMServerProcess() as server:
        chat(server, "one")
        time.sleep(0.3)
        chat(server, "two")
        stats = server.stats()
        assert stats["last_call_s"] - stats["first_call_s"] >= 0.3


def test_max_in_flight_counts_the_calls_served_at_once() -> None:
    with LMServerProcess(["--latency-ms", "300"]) as server:
        chat(server, "alone")
        assert server.stats()["max_in_flight"] == 1
        server.reset()
        assert server.stats()["max_in_flight"] == 0
        threads = [threading.Thread(target=chat, args=(server, f"q{i}")) for i in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.15)
        assert server.stats()["in_flight"] == 3
        for t in threads:
            t.join()
        # Three calls of 300 ms each, started together: all three were served at once.
        assert server.stats()["max_in_flight"] == 3
        assert server.stats()["in_flight"] == 0


def test_latency_option_delays_answers() -> None:
    with LMServerProcess(["--latency-ms", "200"]) as server:
        began = time.monotonic()
        chat(server, "slow")
        assert time.monotonic() - began >= 0.2


def test_rate_options_pick_a_deterministic_fraction_of_requests() -> None:
    with LMServerProcess(["--rate-429", "0.5", "--rate-malformed", "0.2"]) as server:
        first = [chat(server, f"question {i}")[0] for i in range(60)]
        assert 15 <= first.count(429) <= 45, first.count(429)
        # Retries of the rate-limited ones succeed.
        assert all(chat(server, f"question {i}")[0] == 200 for i in range(60))
        assert 3 <= server.stats()["malformed"] <= 40


def test_the_server_stops_itself_after_max_seconds() -> None:
    began = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "dspex_testing.lm_server", "--max-seconds", "0.5"],
        check=False, cwd=PYTHON_ROOT, env=child_env(), capture_output=True, text=True, timeout=20,
    )
    assert process.returncode == 0 and time.monotonic() - began < 10
    assert json.loads(process.stdout)["port"] > 0
    assert "lm_server_stats" in process.stderr


def test_parses_dspy_field_lists() -> None:
    fields = lm_answers.output_fields(SYSTEM)
    assert fields[0] == ("answer", "str") and fields[-1] == ("label", "Literal['yes', 'no']")
    assert lm_answers.input_values(user("Hi?")) == {"question": "Hi?"}
    assert lm_answers.typed_value("Literal['a', 'b']", b"\x00" * 8) == "a"
    assert Path(lm_answers._DEFAULT_QA) == QA_PATH
