"""Fake ``predict`` and ``embed`` handlers for the Java transform tests.

They follow the production contract (docs/protocol.md section 9: setup result
``{handle, inputs, outputs}`` / ``{handle, dim}``, streaming ``predict`` chunks
with usage, ``embed`` NUMPY vectors with ``failed``) but compute answers from
the inputs, and misbehave on markers in an element's first input:

- ``__FAIL__``: that element fails (``ValueError``);
- ``__KILL__``: the worker dies (exit 9) when it reaches the element, every time;
- ``__KILL_ONCE__``: dies the first time only (a marker file in ``cache_dir``);
- ``__BADTYPE__``: non-numeric text for int/float outputs;
- ``__LEAK__``: fails with a message holding the value of ``lm.api_key_env``.

With ``lm.cache_dir`` set, every element computed is appended to
``<cache_dir>/calls.log`` (one line each), so tests can check that no element
was computed twice.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
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
    state = {"inputs": inputs, "outputs": outputs, "dir": lm.get("cache_dir"),
             "key": os.environ.get(lm.get("api_key_env") or "", ""),
             "delay": float(os.environ.get("FAKE_DELAY_S", "0"))}
    return Loaded(state, {"inputs": inputs, "outputs": outputs, "versions": {"fake": "1"}})


def _first(record: dict[str, Any]) -> str:
    for value in record.values():
        return str(value)
    return ""


def _log(state: dict[str, Any], text: str, where: str = "") -> None:
    if state.get("dir"):
        with open(os.path.join(state["dir"], "calls.log"), "a", encoding="utf-8") as f:
            f.write(text.replace("\n", " ") + "\t" + where + "\n")


def _maybe_die(state: dict[str, Any], text: str) -> None:
    if "__KILL_ONCE__" in text and state.get("dir"):
        mark = os.path.join(state["dir"], "killed-" + hashlib.sha1(text.encode()).hexdigest())
        if not os.path.exists(mark):
            open(mark, "w").close()
            os._exit(9)
    elif "__KILL__" in text:
        os._exit(9)


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
        _maybe_die(state, text)
        if state["delay"]:
            time.sleep(state["delay"])
        if "__LEAK__" in text:
            ctx.stream.chunk([], failed=[{"index": i, "type": "AuthenticationError",
                                          "message": f"bad key {state['key']} for fake/model"}])
        elif "__FAIL__" in text:
            ctx.stream.chunk([], failed=[{"index": i, "type": "ValueError", "message": "fake failure"}],
                             usage=_USAGE)
        else:
            out = {f["name"]: _value(f["name"], f["type"], text) for f in state["outputs"]}
            ctx.stream.chunk([i], usage=_USAGE, bodies={"outputs": [out]})
        # Logged once the result is on the channel: a line twice means a reported element was
        # sent again (an LM call paid twice).
        _log(state, text, f"pid={os.getpid()} request={ctx.id} index={i}")
    ctx.stream.end()


@register_setup("fake_embed")
def load_embed(ctx: Context) -> Loaded:
    return Loaded({"dim": 4, "dir": None}, {"dim": 4, "model": ctx.args.get("model")})


@register("fake_embed")
def embed(ctx: Context) -> Any:
    import numpy as np

    from dspex_worker.handlers import Reply

    texts = ctx.body("texts")
    texts = [t["texts"] if isinstance(t, dict) else t for t in texts]
    vectors = np.zeros((len(texts), 4), dtype=np.float32)
    failed = []
    for i, text in enumerate(texts):
        if "__KILL__" in text:
            os._exit(9)
        if "__FAIL__" in text:
            failed.append({"index": i, "type": "ValueError", "message": "fake embed failure"})
            continue
        vectors[i] = [len(text), 1.0, 2.0, 3.0]
    return Reply({"failed": failed, "dim": 4}, {"vectors": vectors}, "numpy")
