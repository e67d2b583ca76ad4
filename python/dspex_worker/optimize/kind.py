"""The ``optimize`` kind (contract: docs/protocol.md, section 9.9.5).

One request compiles the handle's program over body ``trainset`` (scored on body ``devset``,
when given) and answers with one result record. With ``stream: true`` it answers STREAM_START
``{n: 1}``, a STREAM_CHUNK with no index and a ``progress`` body per event (each bootstrapped
demo, trial, evaluation and phase, and the counts at most once a second while LM calls go on;
its ``usage`` is the LM usage since the previous chunk), then the chunk of index 0 with body
``result``, and STREAM_END. Nothing heavy is imported here: dspy is imported by the setup.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dspex_worker import contract
from dspex_worker.codec.formats import JSON
from dspex_worker.handlers import Context, Loaded, Reply
from dspex_worker.kinds import JobKind

#: Keys ``setup`` kind ``optimize`` understands (besides ``kind``).
SETUP_KEYS = contract.SETUP_KEYS["optimize"]
#: The request bodies: the training examples, and the dev examples that score the program.
TRAINSET, DEVSET = "trainset", "devset"


class OptimizeKind(JobKind):
    """A DSPy optimizer over a training set shipped in one request."""

    name = "optimize"
    setup_keys = SETUP_KEYS
    version_packages = ("dspy", "litellm", "optuna")

    def load_model(self, args: Mapping[str, Any], logger: logging.Logger) -> Loaded:
        """Build the program, its LMs, the metric and the optimizer's plan; describe them."""
        from dspex_worker.optimize.handle import load_handle

        handle = load_handle(args)
        logger.info("optimize handle: %s, metric %s, labels %s", handle.optimizer.name, handle.metric_name,
                    handle.label_fields)
        return Loaded(handle, {"inputs": handle.inputs, "outputs": handle.outputs,
                               "label_fields": handle.label_fields, "optimizer": handle.optimizer.name,
                               "threads": handle.threads})

    def run_job(self, ctx: Context, model: Any) -> Reply | None:
        """Compile over the request's examples; stream progress when ``args.stream``."""
        from dspex_worker.optimize.examples import to_examples
        from dspex_worker.optimize.job import CompileJob

        stream = ctx.args.get("stream", False)
        if not isinstance(stream, bool):
            raise ValueError(f"args.stream must be true or false, was {stream!r}")
        if not ctx.has_body(TRAINSET):
            raise ValueError(f"optimize needs a body '{TRAINSET}': a list of example records")
        names = (model.input_names, model.label_fields)
        trainset = to_examples(ctx.body(TRAINSET), *names, TRAINSET)
        devset = to_examples(ctx.body(DEVSET), *names, DEVSET) if ctx.has_body(DEVSET) else []
        ctx.logger.info("optimize: %d training and %d dev examples (%s)", len(trainset), len(devset),
                        ctx.body_format(TRAINSET) + (" by REF" if ctx.body_is_ref(TRAINSET) else ""))
        job = CompileJob(model, trainset, devset)
        if not stream:
            result, _ = job.run(lambda event, usage: None)
            return Reply({"ok": 1, "failed": [], "usage": job.usage()}, {"result": [result]})
        ctx.stream.start(1)
        result, usage = job.run(lambda event, usage: ctx.stream.chunk(
            [], usage=usage, bodies={"progress": [event]}, formats=JSON.name))
        ctx.stream.chunk([0], usage=usage, bodies={"result": [result]})
        return None
