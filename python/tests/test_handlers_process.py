"""``predict`` and ``embed`` end to end: real worker processes, the loopback LM server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dspex_worker.protocol.frames import FrameType
from dspex_testing import lm_answers
from dspex_testing.client import PYTHON_ROOT, WorkerProcess
from dspex_testing.lm_server_process import LMServerProcess

QA = [json.loads(line) for line in
      (PYTHON_ROOT.parent / "testdata" / "qa" / "qa.jsonl").read_text().splitlines()]
KEY_ENV = {"DSPEX_E2E_KEY": "not-a-secret"}
SIGNATURE = "question, context: list[str] -> answer, confidence: float"


@pytest.fixture(scope="module")
def server() -> Iterator[LMServerProcess]:
    with LMServerProcess(["--embed-dim", "16"]) as process:
        yield process


@pytest.fixture(scope="module")
def worker() -> Iterator[WorkerProcess]:
    with WorkerProcess("dspex_worker", env=KEY_ENV) as process:
        process.hello(args={"threads": 2})
        yield process


def lm_args(server: LMServerProcess, **extra: Any) -> dict[str, Any]:
    return {"model": "openai/loopback", "api_base": server.api_base, "api_key_env": "DSPEX_E2E_KEY",
            "cache": False, "num_retries": 2, **extra}


def setup(worker: WorkerProcess, args: dict[str, Any]) -> dict[str, Any]:
    response = worker.call("setup", args)
    assert response.success, response.error
    return response.result


@pytest.fixture(scope="module")
def qa_handle(worker: WorkerProcess, server: LMServerProcess) -> str:
    result = setup(worker, {"kind": "predict", "signature": SIGNATURE, "lm": lm_args(server),
                            "threads": 8})
    assert result["inputs"] == [{"name": "question", "type": "str"},
                                {"name": "context", "type": "list[str]"}]
    assert result["outputs"] == [{"name": "answer", "type": "str"}, {"name": "confidence", "type": "float"}]
    assert result["versions"]["dspy"] and result["versions"]["litellm"] == "1.110.2"
    assert "api_key" not in json.dumps(result["lm"]).replace("api_key_env", "")
    return result["handle"]


def stream_events(worker: WorkerProcess, handle: str, inputs: list[Any], **args: Any):
    events = worker.stream("predict", {"handle": handle, "n": len(inputs), "stream": True, **args},
                           {"inputs": inputs}, formats=args.pop("formats", None))
    assert events[0].frame_type is FrameType.STREAM_START and events[0].header["n"] == len(inputs)
    assert events[-1].frame_type is FrameType.STREAM_END, events[-1].header
    return events[1:-1], events[-1].header


def test_streaming_predict_answers_the_qa_set_completely(
    worker: WorkerProcess, qa_handle: str
) -> None:
    inputs = [{"question": r["question"], "context": ["general knowledge"]} for r in QA]
    inputs[7] = {"question": None, "context": []}
    inputs[11] = {"question": f"bad {lm_answers.MARKER_MALFORMED}", "context": []}
    chunks, end = stream_events(worker, qa_handle, inputs)
    outputs: dict[int, Any] = {}
    failed: dict[int, dict[str, Any]] = {}
    usage_calls = 0
    for chunk in chunks:
        assert chunk.frame_type is FrameType.STREAM_CHUNK
        records = chunk.body("outputs") if chunk.header["indexes"] else []
        assert len(records) == len(chunk.header["indexes"])
        for index, record in zip(chunk.header["indexes"], records):
            assert index not in outputs and index not in failed
            outputs[index] = record
        for failure in chunk.header["failed"]:
            failed[failure["index"]] = failure
        usage_calls += chunk.header["usage"]["calls"]
    assert set(outputs) | set(failed) == set(range(len(inputs))) and not set(outputs) & set(failed)
    assert failed[7]["type"] == "MissingInput" and failed[11]["type"] == "AdapterParseError"
    for index, record in outputs.items():
        assert record["answer"] == QA[index]["answer"] and isinstance(record["confidence"], float)
    assert end["ok"] == len(inputs) - 2 and end["failed"] == 2
    assert end["usage"]["calls"] == usage_calls == len(inputs) - 2 + 2  # the malformed one: 2 calls
    assert end["usage"]["prompt_tokens"] > 0 and end["usage"]["completion_tokens"] > 0


def test_predict_without_stream_answers_one_response_with_nulls_where_failed(
    worker: WorkerProcess, qa_handle: str, server: LMServerProcess
) -> None:
    inputs = [{"question": QA[0]["question"], "context": []},
              {"question": f"slow down {time.time()} {lm_answers.MARKER_429}", "context": []},
              {"context": []}]
    before = server.stats()
    response = worker.call("predict", {"handle": qa_handle, "n": 3}, {"inputs": inputs})
    assert response.success, response.error
    result, outputs = response.result, response.body("outputs")
    assert result["ok"] == 2 and [f["index"] for f in result["failed"]] == [2]
    assert outputs[0]["answer"] == QA[0]["answer"] and outputs[1] is not None and outputs[2] is None
    assert result["usage"]["calls"] == 2
    assert server.stats()["errors_429"] - before["errors_429"] == 1  # retried, then answered


def test_arrow_inputs_get_arrow_outputs(worker: WorkerProcess, qa_handle: str) -> None:
    inputs = [{"question": r["question"], "context": ["x", "y"]} for r in QA[:6]]
    response = worker.call("predict", {"handle": qa_handle, "n": 6}, {"inputs": inputs},
                           formats="arrow")
    assert response.success, response.error
    assert response.body_format("outputs") == "arrow"
    assert [r["answer"] for r in response.body("outputs")] == [r["answer"] for r in QA[:6]]


def test_bad_requests_fail_the_request_not_the_worker(worker: WorkerProcess, qa_handle: str) -> None:
    assert worker.call("predict", {"handle": qa_handle}).error["type"] == "ValueError"
    error = worker.call("predict", {"handle": qa_handle, "n": 5}, {"inputs": [{}]}).error
    assert "args.n" in error["message"]
    assert worker.call("predict", {"handle": "nope"}, {"inputs": []}).error["type"] == "UnknownHandle"
    error = worker.call("setup", {"kind": "predict", "signature": SIGNATURE, "lm": {"model": "m", "oops": 1}}).error
    assert error["type"] == "ValueError" and "oops" in error["message"]
    assert worker.call("ping").result["ok"] is True


def test_predict_with_dummy_lm_factory_in_a_worker(worker: WorkerProcess) -> None:
    handle = setup(worker, {"kind": "predict", "signature": "question -> answer",
                            "lm": {"lm_factory": "dspex_testing.lms:dummy_lm", "cache": False,
                                   "factory_args": {"default": {"answer": "dummy"}}}})["handle"]
    chunks, end = stream_events(worker, handle, [{"question": str(i)} for i in range(10)])
    assert end["ok"] == 10
    assert all(r == {"answer": "dummy"} for c in chunks if c.header["indexes"] for r in c.body("outputs"))


def test_an_unencodable_answer_fails_its_element_and_the_stream_ends_normally(
    worker: WorkerProcess,
) -> None:
    handle = setup(worker, {"kind": "predict", "signature": "question -> answer", "threads": 4,
                            "lm": {"lm_factory": "dspex_testing.lms:half_surrogate_lm",
                                   "cache": False,
                                   "factory_args": {"on": "q3", "default": {"answer": "ok"}}}})["handle"]
    for formats in (None, "msgpack"):
        chunks, end = stream_events(worker, handle, [{"question": f"q{i}"} for i in range(8)],
                                    formats=formats)
        assert (end["ok"], end["failed"]) == (7, 1)
        failed = [f for c in chunks for f in c.header["failed"]]
        assert [(f["index"], f["type"]) for f in failed] == [(3, "OutputEncodingError")]
        answered = sorted(i for c in chunks for i in c.header["indexes"])
        assert answered == [0, 1, 2, 4, 5, 6, 7]


def test_the_disk_cache_makes_a_second_worker_run_free(
    worker: WorkerProcess, server: LMServerProcess, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "lm-cache"
    inputs = [{"question": f"cache me {i} {time.time()}", "context": []} for i in range(6)]
    args = {"kind": "predict", "signature": SIGNATURE,
            "lm": lm_args(server, cache=True, cache_dir=str(cache_dir))}

    def run(process: WorkerProcess) -> tuple[int, int]:
        handle = setup(process, args)["handle"]
        before = server.stats()["chat_calls"]
        _, end = stream_events(process, handle, inputs)
        assert end["ok"] == 6
        return server.stats()["chat_calls"] - before, end["usage"]["calls"]

    assert run(worker) == (6, 6)
    # A second worker process shares nothing with the first but the cache directory.
    with WorkerProcess("dspex_worker", env=KEY_ENV) as second:
        second.hello()
        assert run(second) == (0, 0)


def test_embed_onnx_in_a_worker(worker: WorkerProcess) -> None:
    result = setup(worker, {"kind": "embed"})
    assert result["dim"] == 384 and result["normalize"] is True and result["backend"] == "onnx"
    assert result["precision"] == "float32" and result["threads"] == 2  # hello's threads
    assert result["versions"]["onnxruntime"] and len(result["graph_sha256"]) == 64
    texts = ["A man is eating food.", None, "A man is eating a piece of bread.", 42,
             "The stock market fell sharply today."]
    response = worker.call("embed", {"handle": result["handle"], "n": 5}, {"texts": texts})
    assert response.success, response.error
    vectors = response.body("vectors")
    assert response.body_format("vectors") == "numpy" and vectors.dtype == np.float32
    assert vectors.shape == (5, 384) and response.result["dim"] == 384
    assert [f["index"] for f in response.result["failed"]] == [1, 3]
    assert response.result["failed"][0]["type"] == "InvalidText"
    assert not vectors[1].any() and not vectors[3].any()
    assert np.allclose(np.linalg.norm(vectors[[0, 2, 4]], axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[2] > vectors[0] @ vectors[4]
    raw = worker.call("embed", {"handle": result["handle"], "normalize": False},
                      {"texts": texts[:1]}).body("vectors")
    assert abs(np.linalg.norm(raw[0]) - 1.0) > 1e-3
    arrow = worker.call("embed", {"handle": result["handle"]}, {"texts": [t for t in texts if isinstance(t, str) or t is None]},
                        formats="arrow")
    assert arrow.success, arrow.error
    assert np.abs(arrow.body("vectors")[0] - vectors[0]).max() < 1e-5


def test_embed_openai_backend_against_the_loopback_server(
    worker: WorkerProcess, server: LMServerProcess
) -> None:
    result = setup(worker, {"kind": "embed", "backend": "openai", "model": "loopback-embed",
                            "api_base": server.api_base, "api_key_env": "DSPEX_E2E_KEY"})
    response = worker.call("embed", {"handle": result["handle"]}, {"texts": ["a", None, "b", "a"]})
    assert response.success, response.error
    vectors = response.body("vectors")
    assert vectors.shape == (4, 16) and response.result["dim"] == 16
    assert [f["index"] for f in response.result["failed"]] == [1]
    assert np.array_equal(vectors[0], vectors[3]) and not vectors[1].any()
    failing = worker.call("embed", {"handle": result["handle"]},
                          {"texts": [f"x {lm_answers.MARKER_500}"]})
    assert failing.success and failing.result["failed"][0]["index"] == 0


def test_hello_stays_fast_and_light_with_the_production_handlers() -> None:
    began = time.monotonic()
    with WorkerProcess("dspex_worker") as process:
        session = process.hello(args={"handler_modules": ["dspex_testing.handlers"]})
        assert time.monotonic() - began < 1.0
        assert {"predict", "embed"} <= set(session.hello["result"]["capabilities"]["handlers"])
        heavy = ["dspy", "litellm", "numpy", "tokenizers", "safetensors", "onnx", "onnxruntime"]
        assert process.call("loaded_modules", {"names": heavy}).result == dict.fromkeys(heavy, False)
        cache_dir = process.call("env", {"names": ["DSPY_CACHEDIR"]}).result["DSPY_CACHEDIR"]
        assert cache_dir is None or not cache_dir.startswith(str(Path.home()))
