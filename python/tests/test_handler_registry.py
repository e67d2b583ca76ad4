"""The handler registry and the stream writer, in process."""

from __future__ import annotations

import io

import pytest

from dspex_worker.handlers import BUILTIN_COMMANDS, Context, Registry, Reply, StreamWriter
from dspex_worker.protocol import headers
from dspex_worker.protocol.frames import FrameReader, FrameType, FrameWriter
from dspex_worker.protocol.reader import MessageReader
from dspex_worker.protocol.writer import MessageWriter


def hello(ctx: Context) -> Reply:
    return Reply({"hi": True})


def test_register_as_decorator_and_call_keeps_registration_order() -> None:
    registry = Registry()

    @registry.register("b", streaming=True)
    def b(ctx: Context) -> None:
        return None

    registry.register("a", hello)
    assert registry.handler_names() == ["b", "a"]
    assert registry.handler("b").streaming and registry.handler("b").fn is b
    assert registry.handler("a").fn is hello and registry.handler("zzz") is None


def test_registering_the_same_function_twice_is_a_no_op_but_another_is_refused() -> None:
    registry = Registry()
    registry.register("h", hello)
    registry.register("h", hello)
    with pytest.raises(ValueError, match="already registered by .*test_handler_registry.hello"):
        registry.register("h", lambda ctx: None)


@pytest.mark.parametrize("name", [*BUILTIN_COMMANDS, "", 3])
def test_builtin_and_empty_names_are_refused(name: object) -> None:
    with pytest.raises(ValueError):
        Registry().register(name, hello)  # type: ignore[arg-type]


def test_setup_kinds_are_registered_apart_from_handlers() -> None:
    registry = Registry()
    registry.register_setup("model")(lambda ctx: object())
    registry.register("model", hello)
    assert registry.setup_kinds() == ["model"] and registry.handler_names() == ["model"]
    with pytest.raises(ValueError, match="already registered"):
        registry.register_setup("model", lambda ctx: 1)


def stream_writer() -> tuple[StreamWriter, io.BytesIO]:
    out = io.BytesIO()
    return StreamWriter(MessageWriter(FrameWriter(out)), 5), out


def events(out: io.BytesIO) -> list:
    reader = MessageReader(FrameReader(io.BytesIO(out.getvalue())))
    return list(iter(reader.read, None))


def test_stream_writer_keeps_totals_and_ends_with_them() -> None:
    stream, out = stream_writer()
    stream.start(3)
    stream.chunk([0], usage={"prompt_tokens": 2, "calls": 1}, bodies={"outputs": [{"a": 1}]})
    stream.chunk([2], [headers.failure(1, "ValueError", "no")], {"completion_tokens": 4})
    assert stream.complete and stream.reported == 3
    stream.end()
    end = events(out)[-1]
    assert end.frame_type is FrameType.STREAM_END
    assert end.header == {
        "id": 5,
        "ok": 2,
        "failed": 1,
        "usage": {"prompt_tokens": 2, "completion_tokens": 4, "calls": 1},
    }


def test_stream_writer_refuses_bad_indexes_before_writing_anything() -> None:
    stream, out = stream_writer()
    stream.start(2)
    written = len(out.getvalue())
    with pytest.raises(ValueError, match="not in 0..1"):
        stream.chunk([2])
    stream.chunk([0])
    written = len(out.getvalue())
    with pytest.raises(ValueError, match="already reported"):
        stream.chunk([1], [headers.failure(0, "E", "m")])
    assert len(out.getvalue()) == written


def test_stream_writer_refuses_to_end_an_incomplete_stream_or_chunk_outside_one() -> None:
    stream, _ = stream_writer()
    with pytest.raises(ValueError, match="not open"):
        stream.chunk([0])
    stream.start(2)
    stream.chunk([0])
    with pytest.raises(ValueError, match="reported 1 of its 2"):
        stream.end()
    with pytest.raises(ValueError, match="already started"):
        stream.start(1)


def test_stream_writer_needs_v2() -> None:
    stream = StreamWriter(MessageWriter(FrameWriter(io.BytesIO(), v2=False)), 1)
    with pytest.raises(ValueError, match="V2"):
        stream.start(1)
