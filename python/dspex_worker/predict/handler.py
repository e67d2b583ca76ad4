"""The ``predict`` setup kind and handler (contract: docs/protocol.md, section 9.9.1-9.9.2).

Nothing heavy is imported here: dspy is imported by the setup loader, so that
registering these handlers costs nothing at ``hello``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dspex_worker.handlers import Context, Loaded, Registry, Reply
from dspex_worker.offline import apply_offline_env
from dspex_worker.protocol import headers
from dspex_worker.protocol.negotiation import versions

#: Keys ``setup`` kind ``predict`` understands (besides ``kind``).
SETUP_KEYS = frozenset({
    "signature", "program", "program_args", "python_path", "program_state", "predictor",
    "instructions", "lm", "threads",
})
#: Arrow column types for the field type names of :mod:`.fields`.
_ARROW_TYPES = {
    "str": "utf8", "int": "int64", "float": "float64", "bool": "bool", "json": "utf8",
    "list[str]": "list<utf8>", "list[int]": "list<int64>", "list[float]": "list<float64>",
    "list[bool]": "list<bool>",
}


def load_predict(ctx: Context) -> Loaded:
    """Setup kind ``predict``: build the LM and the program once; describe their fields."""
    apply_offline_env()
    from dspex_worker.predict.lm import build_lm
    from dspex_worker.predict.program import build_program
    from dspex_worker.predict.runner import PredictHandle, check_threads

    args = ctx.args
    unknown = set(args) - SETUP_KEYS
    if unknown:
        raise ValueError(f"unknown setup keys for predict {sorted(unknown)}; known: {sorted(SETUP_KEYS)}")
    lm_spec = args.get("lm")
    if not isinstance(lm_spec, Mapping):
        raise ValueError("setup predict needs 'lm': {model, api_base?, api_key_env?, ...} or {lm_factory}")
    threads = check_threads(args.get("threads", 8), "threads")
    lm, lm_described = build_lm(lm_spec)
    program, inputs, outputs = build_program(args)
    handle = PredictHandle(program, lm, inputs, outputs, threads)
    ctx.logger.info("predict handle: %d inputs, %d outputs, lm %s", len(inputs), len(outputs),
                    lm_described.get("model"))
    return Loaded(handle, {
        "inputs": inputs,
        "outputs": outputs,
        "lm": lm_described,
        "threads": threads,
        "versions": versions(("dspy", "litellm")),
    })


def _input_records(ctx: Context) -> list[Any]:
    if not ctx.has_body("inputs"):
        raise ValueError("predict needs a body 'inputs': a list of records")
    records = ctx.body("inputs")
    if not isinstance(records, list):
        raise ValueError(f"body 'inputs' must be a list of records, was {type(records).__name__}")
    n = ctx.args.get("n")
    if n is not None and n != len(records):
        raise ValueError(f"args.n is {n!r} but body 'inputs' holds {len(records)} records")
    return records


def _output_body(ctx: Context, handle: Any, records: Sequence[Any]) -> tuple[Any, Any]:
    """The ``outputs`` body in the request's format family: ``(value, format)``."""
    request_format = ctx.body_format("inputs")
    if request_format != "arrow":
        return list(records), ("msgpack" if request_format == "msgpack" else None)
    from dspex_worker.codec import arrow_codec
    from dspex_worker.predict.runner import json_text

    spec = [{"name": f["name"], "type": _ARROW_TYPES.get(f["type"], "utf8")} for f in handle.outputs]
    rows = []
    for record in records:
        # Arrow has no null row: a failed element is a row of nulls (and listed in failed).
        record = record or {}
        rows.append({f["name"]: json_text(record.get(f["name"])) if f["type"] == "json"
                     else record.get(f["name"]) for f in handle.outputs})
    return arrow_codec.records_to_batch(rows, spec), "arrow"


def predict(ctx: Context) -> Reply | None:
    """Run the handle's program on body ``inputs``; stream results when ``args.stream``."""
    from dspex_worker.predict.runner import PredictHandle, add_usage, check_threads

    handle = ctx.handle
    if not isinstance(handle, PredictHandle):
        raise TypeError(f"handle {ctx.args.get('handle')!r} is not a predict handle")
    records = _input_records(ctx)
    threads = ctx.args.get("threads")
    if threads is not None:
        check_threads(threads, "args.threads")
    stream = ctx.args.get("stream", False)
    if stream is True:
        ctx.stream.start(len(records))

        def emit(outcomes: list[Any]) -> None:
            usage = headers.usage_map()
            for outcome in outcomes:
                add_usage(usage, outcome.usage)
            done = [o for o in outcomes if o.failure is None]
            body, body_format = _output_body(ctx, handle, [o.output for o in done])
            ctx.stream.chunk([o.index for o in done], [o.failure for o in outcomes if o.failure],
                             usage, {"outputs": body}, formats=body_format)

        handle.run(records, emit, threads)
        ctx.stream.end()
        return None
    if stream is not False:
        raise ValueError(f"args.stream must be true or false, was {stream!r}")
    outputs: list[Any] = [None] * len(records)
    failed: list[dict[str, Any]] = []
    usage = headers.usage_map()

    def collect(outcomes: list[Any]) -> None:
        for outcome in outcomes:
            add_usage(usage, outcome.usage)
            if outcome.failure is None:
                outputs[outcome.index] = outcome.output
            else:
                failed.append(outcome.failure)

    handle.run(records, collect, threads)
    failed.sort(key=lambda f: f["index"])
    body, body_format = _output_body(ctx, handle, outputs)
    return Reply({"ok": len(records) - len(failed), "failed": failed, "usage": usage},
                 {"outputs": body}, body_format)


def register_predict(registry: Registry) -> None:
    """Register setup kind ``predict`` and handler ``predict`` in ``registry``."""
    registry.register_setup("predict", load_predict)
    # Not registered as streaming: without args.stream it answers one response, which
    # V1 connections can take too; with stream it streams (V2 only, checked by start()).
    registry.register("predict", predict)
