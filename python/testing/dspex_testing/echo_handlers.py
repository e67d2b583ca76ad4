"""The echo handlers (``echo``, ``echo_stream``), without registering them anywhere.

:mod:`dspex_testing.echo` serves them as its own registry;
:mod:`dspex_testing.handlers` adds them to the default registry.
"""

from __future__ import annotations

from typing import Any

from dspex_worker.handlers import Context, Registry, Reply
from dspex_worker.protocol import headers


def _reencodable(ctx: Context, name: str) -> Any:
    """A body decoded to values, ready to be encoded again in its format."""
    value = ctx.body(name)
    if ctx.body_format(name) == "arrow":
        from dspex_worker.codec import arrow_codec

        # Keep the received column types (an all-null utf8 column stays utf8).
        return arrow_codec.records_to_batch(value, ctx.body_schema(name))
    return value


def _format_of(ctx: Context, name: str) -> str:
    fmt = ctx.body_format(name)
    return f"ref:{fmt}" if ctx.body_is_ref(name) else fmt


def echo(ctx: Context) -> Reply:
    """Result = args; body frames decoded and re-encoded in their own format.

    A REF body comes back as a new REF file written by the worker; a JSON
    body frame comes back inline in the result, as writers inline JSON bodies.
    """
    names = list(ctx.message.bodies)
    bodies = {name: _reencodable(ctx, name) for name in names}
    formats = {name: _format_of(ctx, name) for name in names}
    return Reply(dict(ctx.args), bodies, formats)


def echo_stream(ctx: Context) -> None:
    """Stream body ``inputs`` back in chunks of ``args.chunk_size``.

    Records with ``"fail": true`` are reported failed (``ValueError``); with
    ``args.break_after_chunks`` the handler raises after that many chunks.
    """
    inputs = ctx.body("inputs")
    content = ctx.body_format("inputs")
    schema = ctx.body_schema("inputs") if content == "arrow" else None
    chunk_size = ctx.args.get("chunk_size", 1)
    if type(chunk_size) is not int or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, was {chunk_size!r}")
    break_after = ctx.args.get("break_after_chunks")
    n = len(inputs)
    ctx.stream.start(n)
    for chunks, start in enumerate(range(0, n, chunk_size)):
        if break_after is not None and chunks >= break_after:
            raise RuntimeError(f"echo_stream asked to break after {chunks} chunks")
        indexes, failed = [], []
        for index in range(start, min(n, start + chunk_size)):
            record = inputs[index]
            if isinstance(record, dict) and record.get("fail") is True:
                failed.append(headers.failure(index, "ValueError", f"record {index} asked to fail"))
            else:
                indexes.append(index)
        ctx.stream.chunk(
            indexes,
            failed,
            headers.usage_map(),
            {"outputs": _outputs(inputs, indexes, content, schema)},
            formats={"outputs": content},
        )
    ctx.stream.end()


def _outputs(inputs: Any, indexes: list[int], content: str, schema: Any) -> Any:
    if content == "numpy":
        return inputs[indexes]
    outputs = [inputs[index] for index in indexes]
    if content == "arrow":
        from dspex_worker.codec import arrow_codec

        return arrow_codec.records_to_batch(outputs, schema)
    return outputs


def register_echo(registry: Registry) -> Registry:
    """Add ``echo`` and ``echo_stream`` to ``registry``; returns it."""
    registry.register("echo", echo)
    registry.register("echo_stream", echo_stream, streaming=True)
    return registry
