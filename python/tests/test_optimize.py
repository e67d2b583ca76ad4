"""The ``optimize`` kind: DSPy optimizers compiled in a real worker over shipped examples.

Each test runs ``python -m dspex_worker`` as a process and talks the protocol to it: setup
``optimize``, then one ``optimize`` request whose bodies hold the examples. DSPy's ``DummyLM``
(through ``lm_factory``) stands in for the LM where no server is needed; the loopback
OpenAI-compatible server checks the real ``dspy.LM`` path, its usage counts and what the
compiled program sends.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import dspy
import pytest

from dspex_worker.optimize import optimizers
from dspex_worker.optimize.progress import Progress
from dspex_worker.protocol.frames import FrameType
from dspex_testing.client import PYTHON_ROOT, WorkerProcess
from dspex_testing.lm_server_process import LMServerProcess

TRAINSET = PYTHON_ROOT.parent / "testdata" / "trainset" / "qa_trainset.jsonl"
RECORDS = [json.loads(line) for line in TRAINSET.read_text(encoding="utf-8").splitlines() if line.strip()]
DUMMY = "dspex_testing.lms:dummy_lm"
KEY = "DSPEX_TEST_LOOPBACK_KEY"


def answers(records: list[dict[str, Any]], wrong: str | None = None) -> dict[str, dict[str, str]]:
    """DummyLM answers: each question's label, except ``wrong``'s."""
    table = {r["question"]: {"answer": r["answer"]} for r in records}
    if wrong is not None:
        table[wrong] = {"answer": "certainly not this"}
    return table


def dummy_lm(table: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {"lm_factory": DUMMY, "cache": False, "factory_args": {"answers": table,
                                                                    "default": {"answer": "no idea"}}}


def loopback(server: LMServerProcess) -> dict[str, Any]:
    return {"model": "openai/loopback", "api_base": server.api_base, "api_key_env": KEY, "cache": False}


def setup(worker: WorkerProcess, **args: Any) -> str:
    response = worker.call("setup", {"kind": "optimize", "signature": "question -> answer", **args})
    assert response.success, response.error
    return str(response.result["handle"])


def compile_stream(worker: WorkerProcess, handle: str, bodies: dict[str, Any],
                   formats: Any = None) -> tuple[list[dict[str, Any]], dict[str, Any], list[Any]]:
    """Progress records, the result record and every event of one streamed compile."""
    events = worker.stream("optimize", {"handle": handle, "stream": True}, bodies, formats=formats)
    assert events[-1].frame_type == FrameType.STREAM_END, events[-1].header
    progress = [e.body("progress")[0] for e in events
                if e.frame_type == FrameType.STREAM_CHUNK and e.header["indexes"] == []]
    final = [e for e in events if e.frame_type == FrameType.STREAM_CHUNK and e.header["indexes"] == [0]]
    assert len(final) == 1
    return progress, final[0].body("result")[0], events


def load_saved(result: dict[str, Any], tmp_path: Path) -> dspy.Module:
    path = tmp_path / "program.json"
    path.write_text(result["program_json"], encoding="utf-8")
    program = dspy.Predict("question -> answer")
    program.load(str(path))
    return program


@pytest.fixture()
def worker() -> Any:
    with WorkerProcess("dspex_worker", env={KEY: "loopback"}) as process:
        process.hello()
        yield process


def test_labeled_few_shot_compiles_demos_from_the_examples_and_the_saved_program_loads(
        worker: WorkerProcess, tmp_path: Path) -> None:
    handle = setup(worker, lm=dummy_lm(answers(RECORDS)), optimizer="labeledfewshot",
                   optimizer_options={"k": 4})
    progress, result, _ = compile_stream(worker, handle, {"trainset": RECORDS[:40], "devset": RECORDS[40:]})
    assert result["optimizer"] == "LabeledFewShot" and result["demos"] == 4
    assert result["trainset_size"] == 40 and result["devset_size"] == 10
    # The DummyLM knows every answer, demos or not: both scores are perfect.
    assert result["dev_score_before"] == 1.0 and result["dev_score_after"] == 1.0
    phases = [p["phase"] for p in progress if p["event"] == "phase"]
    assert phases == ["evaluate_before", "compile", "evaluate_after", "save"]
    program = load_saved(result, tmp_path)
    demos = program.predictors()[0].demos
    assert len(demos) == 4
    assert all({"question": d["question"], "answer": d["answer"]} in RECORDS[:40] for d in demos)


def test_bootstrap_few_shot_streams_one_chunk_per_demo_and_keeps_what_the_metric_accepts(
        worker: WorkerProcess, tmp_path: Path) -> None:
    wrong = RECORDS[1]["question"]
    handle = setup(worker, lm=dummy_lm(answers(RECORDS, wrong=wrong)), optimizer="BootstrapFewShot",
                   optimizer_options={"max_bootstrapped_demos": 3, "max_labeled_demos": 0}, metric="exact")
    progress, result, _ = compile_stream(worker, handle, {"trainset": RECORDS[:8], "devset": RECORDS[:2]})
    demos = [p for p in progress if p["event"] == "demo"]
    assert [d["demos"] for d in demos] == [1, 2, 3]
    assert result["demos"] == 3
    # One of the two dev questions is answered wrong, before and after (DummyLM ignores demos).
    assert result["dev_score_before"] == 0.5 and result["dev_score_after"] == 0.5
    program = load_saved(result, tmp_path)
    bootstrapped = program.predictors()[0].demos
    assert len(bootstrapped) == 3 and wrong not in {d["question"] for d in bootstrapped}


def test_against_the_loopback_server_usage_is_counted_and_the_compiled_demos_reach_the_prompt(
        worker: WorkerProcess, tmp_path: Path) -> None:
    with LMServerProcess() as server:
        lm = loopback(server)
        handle = setup(worker, lm=lm, optimizer="BootstrapFewShot", metric="exact",
                       optimizer_options={"max_bootstrapped_demos": 2, "max_labeled_demos": 2})
        progress, result, events = compile_stream(worker, handle, {"trainset": RECORDS[:6], "devset": RECORDS[6:9]},
                                                  formats="arrow")
        stats = server.stats()
        chunk_usage = [e.header["usage"] for e in events if e.frame_type == FrameType.STREAM_CHUNK]
        assert sum(u["calls"] for u in chunk_usage) == result["lm_calls"] == stats["ok"] > 0
        assert sum(u["prompt_tokens"] for u in chunk_usage) == result["prompt_tokens"] == stats["prompt_tokens"]
        assert result["completion_tokens"] == stats["completion_tokens"]
        assert result["dev_score_before"] == 1.0 and result["dev_score_after"] == 1.0
        assert progress[-1]["lm_calls"] >= 1
        # The saved program, loaded again, sends its demos in every prompt.
        program = load_saved(result, tmp_path)
        demos = program.predictors()[0].demos
        # max_labeled_demos counts the bootstrapped ones: 2 bootstrapped, no room for labeled ones.
        assert len(demos) == 2 and all(d["augmented"] for d in demos)
        server.reset()
        with dspy.context(lm=dspy.LM("openai/loopback", api_base=server.api_base, api_key="loopback", cache=False)):
            assert program(question="What is the capital of Peru?").answer
        (prompt,) = server.prompts()
        assert all(d["question"] in prompt and d["answer"] in prompt for d in demos), prompt


def test_a_ref_body_of_many_examples_compiles(worker: WorkerProcess, tmp_path: Path) -> None:
    with WorkerProcess("dspex_worker") as spilled:
        spilled.hello(spill_dir=tmp_path)
        handle = setup(spilled, lm=dummy_lm({}), optimizer="LabeledFewShot", optimizer_options={"k": 2})
        many = [{"question": f"question {i}", "answer": f"answer {i}", "extra": "ignored"} for i in range(20_000)]
        _, result, _ = compile_stream(spilled, handle, {"trainset": many}, formats="ref")
        assert result["trainset_size"] == 20_000 and result["devset_size"] == 0
        assert result["dev_score_before"] is None and result["demos"] == 2
        assert "optimize: 20000 training and 0 dev examples (arrow by REF)" in spilled.stderr()


def test_pings_are_answered_while_a_compile_runs(worker: WorkerProcess) -> None:
    with LMServerProcess(["--latency-ms", "150"]) as server:
        lm = loopback(server)
        handle = setup(worker, lm=lm, optimizer="BootstrapFewShot", threads=1,
                       optimizer_options={"max_bootstrapped_demos": 4, "max_labeled_demos": 0})
        request = worker.send("optimize", {"handle": handle, "stream": True}, {"trainset": RECORDS[:4]})
        time.sleep(0.3)
        ping = worker.send("ping")
        seen = []
        while True:
            message = worker.read()
            assert message is not None, worker.stderr()
            seen.append(message.id)
            if message.id == request and message.frame_type == FrameType.STREAM_END:
                break
        assert seen.index(ping) < len(seen) - 1, "the ping was answered only after the compile"


def test_past_its_compile_timeout_a_compile_fails_and_stops_calling_the_lm(worker: WorkerProcess) -> None:
    with LMServerProcess(["--latency-ms", "200"]) as server:
        lm = loopback(server)
        handle = setup(worker, lm=lm, optimizer="BootstrapFewShot", threads=1, compile_timeout_s=0.5,
                       optimizer_options={"max_bootstrapped_demos": 20, "max_labeled_demos": 0})
        started = time.monotonic()
        events = worker.stream("optimize", {"handle": handle, "stream": True}, {"trainset": RECORDS[:20]})
        assert time.monotonic() - started < 5
        assert events[-1].frame_type == FrameType.STREAM_ERROR
        error = events[-1].header["error"]
        assert error["type"] == "CompileTimeout" and "compile_timeout_s 0.5" in error["message"]
        calls = server.stats()["chat_calls"]
        time.sleep(0.8)
        assert server.stats()["chat_calls"] <= calls + 1, "the stopped compile went on calling the LM"


def test_a_metric_that_raises_fails_the_compile_naming_the_metric_and_the_example(worker: WorkerProcess) -> None:
    handle = setup(worker, lm=dummy_lm(answers(RECORDS)), optimizer="BootstrapFewShot",
                   metric="dspex_testing.lms:raising_metric")
    events = worker.stream("optimize", {"handle": handle, "stream": True}, {"trainset": RECORDS[:5]})
    assert events[-1].frame_type == FrameType.STREAM_ERROR
    error = events[-1].header["error"]
    assert error["type"] == "MetricError"
    assert "metric 'dspex_testing.lms:raising_metric' raised ZeroDivisionError" in error["message"]
    assert RECORDS[0]["question"] in error["message"]


@pytest.mark.parametrize(("args", "message"), [
    ({"optimizer": "Annealing"}, "optimizer must be one of LabeledFewShot, BootstrapFewShot"),
    ({"optimizer": "LabeledFewShot", "optimizer_options": {"kk": 1}}, "LabeledFewShot has no option 'kk'"),
    ({"optimizer": "BootstrapFewShot", "optimizer_options": {"metric": "x"}}, "give it as metric"),
    ({"optimizer": "LabeledFewShot", "label_fields": ["confidence"]}, "are not outputs of the program"),
    ({"optimizer": "LabeledFewShot", "metric": "nonsense"}, "metric must be one of"),
    ({"optimizer": "LabeledFewShot", "compile_timeout_s": 0}, "compile_timeout_s must be a positive number"),
    ({"optimizer": "LabeledFewShot", "threads": 0}, "threads must be an integer"),
])
def test_bad_settings_fail_the_setup_naming_them(worker: WorkerProcess, args: dict[str, Any], message: str) -> None:
    response = worker.call("setup", {"kind": "optimize", "signature": "question -> answer",
                                     "lm": dummy_lm({}), **args})
    assert not response.success
    assert message in response.error["message"], response.error


def test_mipro_needs_optuna_and_says_so_when_it_is_missing(worker: WorkerProcess) -> None:
    if importlib.util.find_spec("optuna") is not None:
        pytest.skip("optuna is installed here")
    response = worker.call("setup", {"kind": "optimize", "signature": "question -> answer",
                                     "lm": dummy_lm({}), "optimizer": "miprov2"})
    assert not response.success and response.error["type"] == "ImportError"
    message = response.error["message"]
    assert "MIPROv2 needs the Python package 'optuna'" in message
    assert "pip install optuna" in message and "withPythonPath / --python-path" in message


def test_an_example_without_its_label_fails_the_request_naming_it(worker: WorkerProcess) -> None:
    handle = setup(worker, lm=dummy_lm({}), optimizer="LabeledFewShot")
    response = worker.call("optimize", {"handle": handle}, {"trainset": [RECORDS[0], {"question": "q?"}]})
    assert not response.success
    assert "body 'trainset': example 1 lacks 'answer'" in response.error["message"]


def test_without_stream_one_response_carries_the_result(worker: WorkerProcess) -> None:
    handle = setup(worker, lm=dummy_lm({}), optimizer="LabeledFewShot", optimizer_options={"k": 3})
    response = worker.call("optimize", {"handle": handle}, {"trainset": RECORDS[:5]})
    assert response.success, response.error
    assert response.body("result")[0]["demos"] == 3 and response.result["ok"] == 1


# -- in process --------------------------------------------------------------------------


def test_options_go_to_the_constructor_or_compile_by_their_names() -> None:
    plan = optimizers.plan("bootstrapfewshotwithrandomsearch",
                           {"num_candidate_programs": 3, "labeled_sample": False})
    assert plan.name == "BootstrapFewShotWithRandomSearch"
    assert plan.init == {"num_candidate_programs": 3} and plan.compile == {"labeled_sample": False}


def test_progress_sends_milestones_at_once_and_counts_at_most_once_an_interval() -> None:
    now = [0.0]
    progress = Progress(clock=lambda: now[0])
    progress.set_phase("compile", "go")
    assert [e["event"] for e in progress.take(0, 1.0)] == ["phase"]
    progress.lm_call_ended()
    progress.lm_call_ended()
    now[0] = 1.5
    (counts,) = progress.take(0, 1.0)
    assert counts["event"] == "progress" and counts["lm_calls"] == 2
    progress.lm_call_ended()
    assert progress.take(0, 1.0) == []
    progress.metric_called(traced=True, accepted=True)
    (demo,) = progress.take(0, 1.0)
    assert demo["event"] == "demo" and demo["demos"] == 1 and demo["lm_calls"] == 3
