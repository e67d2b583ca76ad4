"""The usage ledger: every LM call written down as it is made, read as the client counts it.

In process: the file format (the golden ledger the Java tests read too), compaction, and the
calls of real ``dspy.LM`` requests to the loopback server (cache hits not counted). As a
process: a worker SIGKILLed while its LM calls are at the server leaves them in its ledger.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from dspex_worker import usage_ledger
from dspex_worker.predict.lm import build_lm
from dspex_worker.predict.program import build_program
from dspex_worker.predict.runner import Outcome, PredictHandle
from dspex_worker.predict.usage import LedgerRecorder
from dspex_worker.usage_ledger import LedgerTotals, UsageLedger, read_totals
from dspex_testing.client import PYTHON_ROOT, WorkerProcess
from dspex_testing.lm_server_process import LMServerProcess

GOLDEN = PYTHON_ROOT.parent / "testdata" / "usage" / "ledger.txt"


def test_the_golden_ledger_reads_as_the_client_counts_it() -> None:
    # t 10 calls; five u lines; call 4 started and never ended nor reported usage (in flight);
    # an e of an unknown call, a line of an unknown kind and a last line cut short are skipped.
    assert read_totals(str(GOLDEN)) == LedgerTotals(
        calls=16, prompt_tokens=1130, completion_tokens=221, in_flight=1
    )


def test_calls_are_written_as_they_happen(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger")
    ledger = UsageLedger(path)
    answered, cached, running = ledger.started(), ledger.started(), ledger.started()
    ledger.used(answered, 12, 3)
    ledger.ended(answered)
    ledger.ended(cached)
    assert Path(path).read_text() == (
        "dspex-usage-ledger 1\ns 1\ns 2\ns 3\nu 1 12 3\ne 1\ne 2\n"
    )
    # The file is whole at every step: a reader sees the call still running as in flight.
    assert read_totals(path) == LedgerTotals(
        calls=2, prompt_tokens=12, completion_tokens=3, in_flight=1
    )
    ledger.used(running, 1, 1)
    ledger.close()
    assert read_totals(path) == LedgerTotals(calls=2, prompt_tokens=13, completion_tokens=4)


def test_a_ledger_opened_again_appends_to_what_is_there(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger")
    first = UsageLedger(path)
    first.used(first.started(), 1, 2)
    first.close()
    second = UsageLedger(path)
    second.used(None, 3, 4)
    second.close()
    assert Path(path).read_text().count("dspex-usage-ledger") == 1
    assert read_totals(path) == LedgerTotals(calls=2, prompt_tokens=4, completion_tokens=6)


def test_a_long_ledger_is_folded_into_totals_keeping_the_calls_still_open(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger")
    ledger = UsageLedger(path, compact_bytes=256)
    in_flight = ledger.started()
    reported_not_ended = ledger.started()
    ledger.used(reported_not_ended, 5, 5)
    for _ in range(500):
        call = ledger.started()
        ledger.used(call, 10, 2)
        ledger.ended(call)
    assert os.path.getsize(path) < 256 + 32
    assert read_totals(path) == LedgerTotals(
        calls=502, prompt_tokens=5005, completion_tokens=1005, in_flight=1
    )
    # Calls open across a fold: a later end of the reported one adds nothing, usage does.
    ledger.ended(reported_not_ended)
    ledger.used(in_flight, 7, 1)
    ledger.close()
    assert read_totals(path) == LedgerTotals(calls=502, prompt_tokens=5012, completion_tokens=1006)
    assert not os.path.exists(path + ".tmp")


def test_a_file_that_is_no_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    path.write_text("something else\n")
    with pytest.raises(ValueError, match="not a usage ledger"):
        read_totals(str(path))
    assert read_totals(str(tmp_path / "missing")) == LedgerTotals()


# -- real dspy.LM calls ------------------------------------------------------------------


def _handle(lm_spec: dict[str, Any], ledger: UsageLedger, signature: str) -> PredictHandle:
    lm, _ = build_lm(lm_spec)
    program, inputs, outputs = build_program({"signature": signature})
    return PredictHandle(program, lm, inputs, outputs, 4, LedgerRecorder(ledger))


def _run(handle: PredictHandle, records: list[Any]) -> list[Outcome]:
    emitted: list[list[Outcome]] = []
    handle.run(records, emitted.append)
    return [o for group in emitted for o in group]


def _summed(outcomes: list[Outcome]) -> LedgerTotals:
    return LedgerTotals(
        calls=sum(o.usage["calls"] for o in outcomes),
        prompt_tokens=sum(o.usage["prompt_tokens"] for o in outcomes),
        completion_tokens=sum(o.usage["completion_tokens"] for o in outcomes),
    )


def test_the_ledger_holds_what_the_elements_report_and_no_cache_hit(
    server: LMServerProcess, key: str, tmp_path: Path
) -> None:
    path = str(tmp_path / "ledger")
    ledger = UsageLedger(path)
    spec = {"model": "openai/loopback", "api_base": server.api_base, "api_key_env": key,
            "cache": True, "cache_dir": str(tmp_path / "cache"), "num_retries": 0}
    handle = _handle(spec, ledger, "question -> answer")
    # The malformed answer costs two calls (ChatAdapter, then its JSONAdapter fallback).
    records = [{"question": f"ledger {i} {time.time()}"} for i in range(5)]
    records.append({"question": f"ledger __DSPEX_MALFORMED__ {time.time()}"})
    before = server.stats()["chat_calls"]
    first = _run(handle, records)
    paid = server.stats()["chat_calls"] - before
    assert paid == 7
    assert read_totals(path) == _summed(first)
    assert read_totals(path).calls == paid
    # Answered from DSPy's cache: started and ended, no usage, no call.
    again = _run(handle, records[:5])
    assert _summed(again).calls == 0
    assert read_totals(path) == _summed(first)
    assert Path(path).read_text().count("\ns ") == 7 + 5


def test_a_worker_killed_while_its_calls_are_at_the_lm_leaves_them_in_its_ledger(
    tmp_path: Path, key: str
) -> None:
    path = str(tmp_path / "ledger")
    with LMServerProcess(["--latency-ms", "600"]) as slow, \
            WorkerProcess("dspex_worker", env={key: "not-a-secret"}) as worker:
        assert "error" not in worker.hello(args={"usage_ledger": path}).hello
        setup = worker.call("setup", {
            "kind": "predict", "signature": "question -> answer", "threads": 3,
            "lm": {"model": "openai/loopback", "api_base": slow.api_base, "api_key_env": key,
                   "cache": False, "num_retries": 0}})
        handle = setup.result["handle"]
        events = worker.stream("predict", {"handle": handle, "stream": True},
                               {"inputs": [{"question": f"answered {i}"} for i in range(2)]})
        reported = sum(e.header["usage"]["calls"] for e in events if "indexes" in e.header)
        assert reported == 2
        worker.send("predict", {"handle": handle, "stream": True},
                    {"inputs": [{"question": f"in flight {i}"} for i in range(3)]})
        deadline = time.monotonic() + 30
        while slow.stats()["in_flight"] < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(worker.process.pid, signal.SIGKILL)
        assert worker.wait() == -signal.SIGKILL
        totals = read_totals(path)
        # The answered calls with their tokens, and the three the server was serving.
        assert totals.calls == reported + 3 and totals.in_flight == 3
        assert totals.prompt_tokens == sum(e.header["usage"]["prompt_tokens"] for e in events
                                           if "indexes" in e.header)
        while slow.stats()["in_flight"] > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert slow.stats()["chat_calls"] == totals.calls


def test_a_usage_ledger_that_cannot_be_written_refuses_hello(tmp_path: Path) -> None:
    with WorkerProcess("dspex_worker") as process:
        missing = str(tmp_path / "no-such-dir" / "ledger")
        error = process.hello(args={"usage_ledger": missing}).hello["error"]
        assert error["type"] == "ValueError"
        assert "usage_ledger" in error["message"] and missing in error["message"]


def test_install_makes_the_ledger_this_processs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(usage_ledger, "_ledger", None)
    assert usage_ledger.current() is None
    ledger = usage_ledger.install(str(tmp_path / "ledger"))
    assert usage_ledger.current() is ledger
    ledger.close()
