"""Serving a model kind: its setup kind, its command, and every wire shape they answer with.

:func:`register_kind` registers, for a :class:`~dspex_worker.kinds.base.ModelKind` named
``k``, the setup kind ``k`` and the handler ``k`` (``docs/protocol.md`` section 9.9):

- ``setup {kind: k, ...}``: unknown keys fail naming them; the result is ``{handle,
  <what the kind says about its model>, versions}``.
- ``k {handle, n?, stream?, <the kind's own args>}`` with the kind's input body: the
  handle must be one of ``k``'s; the body must be a list (of ``n`` elements when ``n`` is
  given). Answered with one response, result ``{ok, failed, usage}`` (or the kind's own)
  and the output body holding one output per element in request order; or, when the kind
  streams and ``stream`` is true, with STREAM_START ``{n}``, one STREAM_CHUNK per group of
  outcomes that complete together (``indexes`` with their outputs, ``failed``, the group's
  ``usage``) and STREAM_END with the totals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from dspex_worker.handlers.context import Context, Loaded, Reply
from dspex_worker.handlers.registry import Registry
from dspex_worker.kinds.base import JobKind, Kind, ModelKind, Outcome, add_usage
from dspex_worker.offline import apply_offline_env
from dspex_worker.protocol import headers
from dspex_worker.protocol.negotiation import versions


@dataclasses.dataclass(frozen=True)
class LoadedModel:
    """What a kind's setup leaves behind its handle: the kind and the model it loaded."""

    kind: Kind
    model: Any


@dataclasses.dataclass(frozen=True)
class _Setup:
    kind: Kind

    def __call__(self, ctx: Context) -> Loaded:
        return load(self.kind, ctx)


@dataclasses.dataclass(frozen=True)
class _Batch:
    kind: ModelKind

    def __call__(self, ctx: Context) -> Reply | None:
        return run_batch(self.kind, ctx)


@dataclasses.dataclass(frozen=True)
class _Job:
    kind: JobKind

    def __call__(self, ctx: Context) -> Reply | None:
        return self.kind.run_job(ctx, model_of(self.kind, ctx))


def register_kind(registry: Registry, kind: Kind) -> None:
    """Register setup kind ``kind.name`` and handler ``kind.name`` in ``registry``."""
    registry.register_setup(kind.name, _Setup(kind))
    if isinstance(kind, JobKind):
        # Streams when asked (args.stream), like a batch kind; the job checks it.
        registry.register(kind.name, _Job(kind))
        return
    # Not registered as streaming: without args.stream it answers one response, which V1
    # connections can take too; with stream it streams (V2 only, checked by start()).
    registry.register(kind.name, _Batch(kind))


def load(kind: Kind, ctx: Context) -> Loaded:
    """``setup`` of ``kind``: check the keys, load the model, describe it."""
    apply_offline_env()
    unknown = set(ctx.args) - kind.setup_keys
    if unknown:
        raise ValueError(
            f"unknown setup keys for {kind.name} {sorted(unknown)}; known: {sorted(kind.setup_keys)}"
        )
    loaded = kind.load_model(ctx.args, ctx.logger)
    result = {**loaded.result, "versions": versions(kind.version_packages)}
    return Loaded(LoadedModel(kind, loaded.value), result)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def model_of(kind: Kind, ctx: Context) -> Any:
    """The model behind the request's handle.

    Raises:
        UnknownHandleError: no such handle.
        TypeError: a handle of another kind (or of a plain setup loader).
    """
    handle = ctx.handle
    if not isinstance(handle, LoadedModel) or handle.kind != kind:
        raise TypeError(
            f"handle {ctx.args.get('handle')!r} is not {_article(kind.name)} {kind.name} handle"
        )
    return handle.model


def read_batch(kind: ModelKind, ctx: Context) -> list[Any]:
    """The batch: the kind's elements of its input body, ``args.n`` of them if given."""
    spec = kind.inputs
    if not ctx.has_body(spec.name):
        raise ValueError(f"{kind.name} needs a body '{spec.name}': {spec.shape}{spec.hint}")
    body = ctx.body(spec.name)
    if not isinstance(body, list):
        raise ValueError(f"body '{spec.name}' must be {spec.shape}, was {type(body).__name__}")
    batch = kind.batch_elements(body, ctx.body_format(spec.name))
    n = ctx.args.get("n")
    if n is not None and n != len(batch):
        raise ValueError(f"args.n is {n!r} but body '{spec.name}' holds {len(batch)} {spec.unit}")
    return batch


def run_batch(kind: ModelKind, ctx: Context) -> Reply | None:
    """A request of ``kind``: one response, or a stream when the kind streams and it is asked."""
    model = model_of(kind, ctx)
    batch = read_batch(kind, ctx)
    options = kind.request_options(ctx.args, model)
    request_format = ctx.body_format(kind.inputs.name)
    if kind.streams:
        stream = ctx.args.get("stream", False)
        if stream is True:
            _stream(kind, ctx, model, batch, options, request_format)
            return None
        if stream is not False:
            raise ValueError(f"args.stream must be true or false, was {stream!r}")
    return _answer(kind, model, batch, options, request_format)


def _usage(outcomes: Sequence[Outcome]) -> dict[str, int]:
    usage = headers.usage_map()
    for outcome in outcomes:
        add_usage(usage, outcome.usage)
    return usage


def _stream(
    kind: ModelKind, ctx: Context, model: Any, batch: list[Any], options: Any, request_format: str
) -> None:
    ctx.stream.start(len(batch))

    def emit(outcomes: Sequence[Outcome]) -> None:
        done = [o for o in outcomes if o.failure is None]
        body, body_format = kind.encode_outputs(model, [o.output for o in done], request_format)
        ctx.stream.chunk(
            [o.index for o in done],
            [o.failure for o in outcomes if o.failure],
            _usage(outcomes),
            {kind.output_body: body},
            formats=body_format,
        )

    kind.run_inference(batch, model, options, emit)
    ctx.stream.end()


def _answer(
    kind: ModelKind, model: Any, batch: list[Any], options: Any, request_format: str
) -> Reply:
    outputs: list[Any] = [None] * len(batch)
    failed: list[dict[str, Any]] = []
    usage = headers.usage_map()

    def collect(outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            add_usage(usage, outcome.usage)
            if outcome.failure is None:
                outputs[outcome.index] = outcome.output
            else:
                failed.append(outcome.failure)

    kind.run_inference(batch, model, options, collect)
    failed.sort(key=lambda f: f["index"])
    body, body_format = kind.encode_outputs(model, outputs, request_format)
    return Reply(kind.result(model, outputs, failed, usage), {kind.output_body: body}, body_format)
