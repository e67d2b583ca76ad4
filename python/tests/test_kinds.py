"""A model kind of our own, served by the framework in process: setup, answers, streams, errors."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dspex_worker.handlers import Loaded, Registry
from dspex_worker.kinds import Emit, InputBody, ModelKind, Outcome, register_kind
from dspex_worker.protocol.frames import FrameReader, FrameType, FrameWriter
from dspex_worker.protocol.message import Message
from dspex_worker.protocol.reader import MessageReader
from dspex_worker.protocol.writer import BodyFormats, MessageWriter
from dspex_worker.server.profile import Profile
from dspex_worker.server.serve import serve


class ReverseKind(ModelKind):
    """Reverses texts (with a setup ``suffix``); ``boom`` fails alone; two groups per batch."""

    name = "reverse"
    setup_keys = frozenset({"suffix"})
    inputs = InputBody("texts", "a list of strings", "texts")
    output_body = "reversed"
    streams = True
    version_packages = ("msgpack",)

    def load_model(self, args: Mapping[str, Any], logger: logging.Logger) -> Loaded:
        return Loaded({"suffix": args.get("suffix", "")}, {"inputs": ["text"]})

    def request_options(self, args: Mapping[str, Any], model: Any) -> bool:
        return bool(args.get("upper", False))

    def run_inference(self, batch: Sequence[Any], model: Any, options: bool, emit: Emit) -> None:
        outcomes = []
        for index, text in enumerate(batch):
            if text == "boom":
                outcomes.append(Outcome.failed(index, "ValueError", f"text {index} went boom"))
            else:
                out = text[::-1] + model["suffix"]
                outcomes.append(Outcome(index, out.upper() if options else out, None, {"calls": 1}))
        half = len(outcomes) // 2
        emit(outcomes[half:])
        emit(outcomes[:half])

    def encode_outputs(
        self, model: Any, outputs: Sequence[Any], request_format: str
    ) -> tuple[Any, BodyFormats]:
        return list(outputs), "msgpack"


class OtherKind(ReverseKind):
    name = "other"


def registry() -> Registry:
    registry = Registry()
    register_kind(registry, ReverseKind())
    register_kind(registry, ReverseKind())  # the same kind again: harmless
    register_kind(registry, OtherKind())
    return registry


Request = tuple[str, dict[str, Any], dict[str, Any] | None]


def exchange(requests: Sequence[Request]) -> dict[int, list[Message]]:
    """Serve the requests (ids 1, 2, ...) one at a time; the answers by request id."""
    inbound = io.BytesIO()
    frames = FrameWriter(inbound, v2=False)
    writer = MessageWriter(frames)
    writer.write_request(0, "hello", {"protocols": ["v2"]})
    frames.switch_to_v2()
    for request_id, (command, args, bodies) in enumerate(requests, 1):
        writer.write_request(request_id, command, args, bodies, formats="msgpack")
    outbound = io.BytesIO()
    profile = Profile("kind test worker", registry(), request_threads=0)
    assert serve(io.BytesIO(inbound.getvalue()), outbound, profile) == 0
    answers = FrameReader(io.BytesIO(outbound.getvalue()), v2=False)
    reader = MessageReader(answers)
    reader.read()
    answers.switch_to_v2()
    grouped: dict[int, list[Message]] = {}
    for message in iter(reader.read, None):
        grouped.setdefault(message.id, []).append(message)
    return grouped


TEXTS = {"texts": ["abc", "boom", "xy", "q"]}


def test_setup_checks_the_keys_and_describes_the_model_with_versions() -> None:
    answers = exchange([
        ("setup", {"kind": "reverse", "suffix": "!"}, None),
        ("setup", {"kind": "reverse", "colour": "red"}, None),
    ])
    result = answers[1][0].result
    assert list(result) == ["handle", "inputs", "versions"] and result["handle"] == "reverse-1"
    assert result["versions"]["msgpack"] is not None
    error = answers[2][0].error
    assert error["type"] == "ValueError"
    assert error["message"] == "unknown setup keys for reverse ['colour']; known: ['suffix']"


def test_a_batch_answered_at_once_has_outputs_in_order_failed_sorted_and_usage_summed() -> None:
    answers = exchange([
        ("setup", {"kind": "reverse", "suffix": "!"}, None),
        ("reverse", {"handle": "reverse-1", "n": 4, "upper": True}, TEXTS),
    ])
    response = answers[2][0]
    assert response.result == {
        "ok": 3,
        "failed": [{"index": 1, "type": "ValueError", "message": "text 1 went boom"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "calls": 3},
    }
    assert response.body("reversed") == ["CBA!", None, "YX!", "Q!"]


def test_a_streamed_batch_has_one_chunk_per_group_then_the_totals() -> None:
    answers = exchange([
        ("setup", {"kind": "reverse"}, None),
        ("reverse", {"handle": "reverse-1", "stream": True}, TEXTS),
    ])
    start, first, second, end = answers[2]
    assert start.kind is FrameType.STREAM_START and start.header["n"] == 4
    assert (first.header["indexes"], first.header["failed"], first.body("reversed")) == (
        [2, 3], [], ["yx", "q"]
    )
    assert second.header["indexes"] == [0] and second.body("reversed") == ["cba"]
    assert second.header["failed"] == [
        {"index": 1, "type": "ValueError", "message": "text 1 went boom"}
    ]
    assert second.header["usage"]["calls"] == 1
    assert end.kind is FrameType.STREAM_END
    assert (end.header["ok"], end.header["failed"], end.header["usage"]["calls"]) == (3, 1, 3)


def test_bad_requests_fail_with_messages_that_say_what_is_wrong() -> None:
    answers = exchange([
        ("setup", {"kind": "reverse"}, None),
        ("setup", {"kind": "other"}, None),
        ("reverse", {"handle": "other-2"}, TEXTS),
        ("reverse", {"handle": "reverse-1"}, None),
        ("reverse", {"handle": "reverse-1"}, {"texts": {"a": 1}}),
        ("reverse", {"handle": "reverse-1", "n": 2}, TEXTS),
        ("reverse", {"handle": "reverse-1", "stream": "yes"}, TEXTS),
        ("reverse", {"handle": "reverse-9"}, TEXTS),
    ])
    errors = {i: answers[i][0].error for i in range(3, 9)}
    assert errors[3] == {"type": "TypeError", "message": "handle 'other-2' is not a reverse handle",
                         "traceback": errors[3]["traceback"]}
    assert errors[4]["message"] == "reverse needs a body 'texts': a list of strings"
    assert errors[5]["message"] == "body 'texts' must be a list of strings, was dict"
    assert errors[6]["message"] == "args.n is 2 but body 'texts' holds 4 texts"
    assert errors[7]["message"] == "args.stream must be true or false, was 'yes'"
    assert errors[8]["type"] == "UnknownHandle"
