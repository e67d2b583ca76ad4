"""Fake ``predict`` and ``embed`` handlers for the Java transform tests.

They follow the production contract (docs/protocol.md section 9: setup result
``{handle, inputs, outputs}`` / ``{handle, dim}``, streaming ``predict`` chunks
with usage, ``embed`` NUMPY vectors with ``failed``) but compute answers from
the inputs, and misbehave on markers in an element's first input:

- ``__FAIL__``: that element fails (``ValueError``);
- ``__BADTYPE__``: non-numeric text for int/float outputs;
- ``__LEAK__``: fails with a message holding the value of ``lm.api_key_env``.

They serve the tests of the Java side's own checks, which real DSPy does not
produce on demand: answers of the wrong type, failure messages that echo the
key, predictable answers and vectors for typing, keying, batching and windows.
The fault tests (worker deaths, budget, rate, volume) run on real DSPy
(:mod:`.programs`).
"""

from __future__ import annotations

import os
import re
from typing import Any

from dspex_worker.handlers import Context, Loaded, register, register_setup

_USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "calls": 1}


def _fields(side: str) -> list[dict[str, str]]:
    out = []
    depth = 0
    cur = ""
    parts = []
    for ch in side:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for part in parts:
        name, _, typ = part.partition(":")
        out.append({"name": name.strip(), "type": typ.strip() or "str"})
    return out


@register_setup("fake_predict")
def load_predict(ctx: Context) -> Loaded:
    args = ctx.args
    if args.get("signature"):
        left, _, right = args["signature"].partition("->")
        inputs, outputs = _fields(left), _fields(right)
    else:
        inputs = [{"name": "question", "type": "str"}]
        outputs = [{"name": "answer", "type": "str"}, {"name": "score", "type": "int"}]
    lm = args.get("lm") or {}
    state = {"inputs": inputs, "outputs": outputs,
             "key": os.environ.get(lm.get("api_key_env") or "", "")}
    return Loaded(state, {"inputs": inputs, "outputs": outputs, "versions": {"fake": "1"}})


def _first(record: dict[str, Any]) -> str:
    for value in record.values():
        return str(value)
    return ""


def _value(name: str, typ: str, text: str) -> Any:
    bad = "__BADTYPE__" in text
    if typ == "int":
        return "abc" if bad else len(text)
    if typ == "float":
        return "abc" if bad else 0.5
    if typ == "bool":
        return True
    if typ in ("list[str]", "List[str]"):
        return [text, name]
    literal = re.match(r"Literal\[\s*['\"]([^'\"]*)['\"]", typ)
    if literal:
        return literal.group(1)
    return f"{name}({text})"


@register("fake_predict", streaming=True)
def predict(ctx: Context) -> None:
    state = ctx.handle
    records = ctx.body("inputs")
    ctx.stream.start(len(records))
    for i, record in enumerate(records):
        text = _first(record)
        if "__LEAK__" in text:
            ctx.stream.chunk([], failed=[{"index": i, "type": "AuthenticationError",
                                          "message": f"bad key {state['key']} for fake/model"}])
        elif "__FAIL__" in text:
            ctx.stream.chunk([], failed=[{"index": i, "type": "ValueError", "message": "fake failure"}],
                             usage=_USAGE)
        else:
            out = {f["name"]: _value(f["name"], f["type"], text) for f in state["outputs"]}
            ctx.stream.chunk([i], usage=_USAGE, bodies={"outputs": [out]})
    ctx.stream.end()


@register_setup("fake_embed")
def load_embed(ctx: Context) -> Loaded:
    return Loaded({"dim": 4}, {"dim": 4, "model": ctx.args.get("model")})


@register("fake_embed")
def embed(ctx: Context) -> Any:
    import numpy as np

    from dspex_worker.handlers import Reply

    texts = ctx.body("texts")
    texts = [t["texts"] if isinstance(t, dict) else t for t in texts]
    vectors = np.zeros((len(texts), 4), dtype=np.float32)
    failed = []
    for i, text in enumerate(texts):
        if "__FAIL__" in text:
            failed.append({"index": i, "type": "ValueError", "message": "fake embed failure"})
            continue
        vectors[i] = [len(text), 1.0, 2.0, 3.0]
    return Reply({"failed": failed, "dim": 4}, {"vectors": vectors}, "numpy")
