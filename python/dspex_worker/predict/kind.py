"""The ``predict`` model kind (contract: docs/protocol.md, section 9.9.1-9.9.2).

Nothing heavy is imported here: dspy is imported by :meth:`PredictKind.load_model`, so
that registering the kind costs nothing at ``hello``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dspex_worker import contract
from dspex_worker.codec.formats import ARROW, MSGPACK
from dspex_worker.handlers import Loaded
from dspex_worker.kinds import Emit, InputBody, ModelKind
from dspex_worker.protocol.writer import BodyFormats

#: Keys ``setup`` kind ``predict`` understands (besides ``kind``).
SETUP_KEYS = contract.SETUP_KEYS["predict"]
#: Arrow column types for the field type names of :mod:`.fields`.
_ARROW_TYPES = {
    "str": "utf8", "int": "int64", "float": "float64", "bool": "bool", "json": "utf8",
    "list[str]": "list<utf8>", "list[int]": "list<int64>", "list[float]": "list<float64>",
    "list[bool]": "list<bool>",
}


class PredictKind(ModelKind):
    """A DSPy program over records: one element per thread of the handle's pool, streamed."""

    name = "predict"
    setup_keys = SETUP_KEYS
    inputs = InputBody("inputs", "a list of records", "records")
    output_body = "outputs"
    streams = True
    version_packages = ("dspy", "litellm")

    def load_model(self, args: Mapping[str, Any], logger: logging.Logger) -> Loaded:
        """Build the LM and the program once; describe their fields."""
        from dspex_worker import usage_ledger
        from dspex_worker.predict.lm import build_lm
        from dspex_worker.predict.program import build_program
        from dspex_worker.predict.runner import PredictHandle, check_threads
        from dspex_worker.predict.usage import LedgerRecorder

        lm_spec = args.get("lm")
        if not isinstance(lm_spec, Mapping):
            raise ValueError("setup predict needs 'lm': {model, api_base?, api_key_env?, ...} or {lm_factory}")
        threads = check_threads(args.get("threads", 8), "threads")
        lm, lm_described = build_lm(lm_spec)
        program, inputs, outputs = build_program(args)
        ledger = usage_ledger.current()
        recorder = LedgerRecorder(ledger) if ledger is not None else None
        batch_spec = args.get("batch_api")
        described = {"inputs": inputs, "outputs": outputs, "lm": lm_described, "threads": threads}
        if batch_spec is None:
            handle = PredictHandle(program, lm, inputs, outputs, threads, recorder)
        else:
            from dspex_worker.predict.batch.setup import BatchMode

            mode = BatchMode(lm, batch_spec)
            handle = PredictHandle(program, mode.lm, inputs, outputs, threads, recorder)
            handle.batch = mode.rounds(handle)
            described["batch_api"] = mode.described()
        logger.info("predict handle: %d inputs, %d outputs, lm %s%s", len(inputs), len(outputs),
                    lm_described.get("model"), "" if batch_spec is None else ", batch mode")
        return Loaded(handle, described)

    def request_options(self, args: Mapping[str, Any], model: Any) -> int | None:
        """``args.threads``: another thread count for this request."""
        from dspex_worker.predict.runner import check_threads

        threads = args.get("threads")
        if threads is not None:
            check_threads(threads, "args.threads")
        return threads

    def run_inference(self, batch: Sequence[Any], model: Any, options: int | None, emit: Emit) -> None:
        """Every record on the handle's threads, emitted as elements complete."""
        model.run(batch, emit, options)

    def encode_outputs(self, model: Any, outputs: Sequence[Any], request_format: str) -> tuple[Any, BodyFormats]:
        """The ``outputs`` body in the request's format family: ARROW for ARROW, MSGPACK for
        MSGPACK, else AUTO.
        """
        if request_format != ARROW.name:
            return list(outputs), (MSGPACK.name if request_format == MSGPACK.name else None)
        from dspex_worker.codec import arrow_codec
        from dspex_worker.predict.runner import json_text

        spec = [{"name": f["name"], "type": _ARROW_TYPES.get(f["type"], "utf8")} for f in model.outputs]
        rows = []
        for record in outputs:
            # Arrow has no null row: a failed element is a row of nulls (and listed in failed).
            record = record or {}
            rows.append({f["name"]: json_text(record.get(f["name"])) if f["type"] == "json"
                         else record.get(f["name"]) for f in model.outputs})
        return arrow_codec.records_to_batch(rows, spec), ARROW.name
