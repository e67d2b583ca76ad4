"""The worker half of ``bench/run optimize-transfer``: a handler module for ``python -m dspex_worker``.

Command ``hold_examples`` takes body ``trainset`` exactly as the ``optimize`` kind does (the same
decoding, the same :func:`dspex_worker.optimize.examples.to_examples`) and answers once the worker
holds every example as a ``dspy.Example``; it compiles nothing. dspy is imported with this module,
when the worker starts, so that no timed request pays for the import.
"""

from __future__ import annotations

import time

import dspy  # noqa: F401 - imported at worker start, outside the timed requests

from dspex_worker.handlers import Context, Reply, register
from dspex_worker.optimize.examples import to_examples
from dspex_worker.optimize.kind import TRAINSET


@register("hold_examples")
def hold_examples(ctx: Context) -> Reply:
    """``args {inputs, labels}``, body ``trainset``; result ``{n, decode_s, examples_s, format, ref}``."""
    started = time.perf_counter()
    records = ctx.body(TRAINSET)
    decoded = time.perf_counter()
    examples = to_examples(records, ctx.args["inputs"], ctx.args["labels"], TRAINSET)
    held = time.perf_counter()
    return Reply({"n": len(examples), "decode_s": round(decoded - started, 4), "examples_s": round(held - decoded, 4),
                  "format": ctx.body_format(TRAINSET), "ref": ctx.body_is_ref(TRAINSET)})
