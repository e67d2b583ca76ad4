"""Deterministic answers in DSPy's prompt formats, for the loopback LM server.

The server reads the prompt DSPy's adapters build and answers every output field
with a value of the declared type, derived from a hash of the prompt's inputs, so
the same prompt always gets the same answer. Questions from the QA set
(``testdata/qa/qa.jsonl``) get their known answer in the field ``answer`` (or the
first ``str`` output field).

Two adapter formats are understood:

- ChatAdapter: the system message lists ``Your output fields are:`` with
  ``1. `name` (type)`` lines; inputs come as ``[[ ## name ## ]]`` blocks in the last
  user message; the answer is ``[[ ## field ## ]]`` blocks ending with
  ``[[ ## completed ## ]]``.
- JSONAdapter (DSPy's fallback after a ChatAdapter parse failure): same field list;
  the answer is one JSON object.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: Prompt markers that make the server misbehave (see ``lm_server``).
MARKER_429 = "__DSPEX_429__"
MARKER_429_ALWAYS = "__DSPEX_429_ALWAYS__"
MARKER_500 = "__DSPEX_500__"
MARKER_MALFORMED = "__DSPEX_MALFORMED__"

#: What a malformed answer looks like: no field markers, not JSON.
MALFORMED_TEXT = "I am not going to follow the requested format today."

_FIELD_LINE = re.compile(r"^\s*\d+\.\s+`(?P<name>[^`]+)`\s+\((?P<type>.*?)\)(?::.*)?$")
_BLOCK = re.compile(r"\[\[ ## (?P<name>\w+) ## \]\]\n(?P<value>.*?)(?=\n\[\[ ## |\Z)", re.DOTALL)
_DEFAULT_QA = Path(__file__).resolve().parents[3] / "testdata" / "qa" / "qa.jsonl"


def normalise_question(text: str) -> str:
    """Case- and whitespace-insensitive form of a question, for QA lookups."""
    return " ".join(text.lower().split()).rstrip("?").strip()


def load_qa(path: str | Path | None = None) -> dict[str, str]:
    """Known answers by normalised question; empty when the file does not exist."""
    qa_path = Path(path) if path is not None else _DEFAULT_QA
    if not qa_path.is_file():
        return {}
    answers: dict[str, str] = {}
    for line in qa_path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            answers[normalise_question(record["question"])] = str(record["answer"])
    return answers


def message_text(content: Any) -> str:
    """The text of a chat message's content (a string, or OpenAI content parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) for part in content if isinstance(part, Mapping)
        )
    return ""


def prompt_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """All messages' text, joined: what markers and hashes are computed over."""
    return "\n".join(message_text(m.get("content")) for m in messages)


def output_fields(system: str) -> list[tuple[str, str]]:
    """``(name, type)`` of each output field listed in a DSPy system message."""
    fields: list[tuple[str, str]] = []
    in_outputs = False
    for line in system.splitlines():
        if line.startswith("Your output fields are:"):
            in_outputs = True
            continue
        if in_outputs:
            match = _FIELD_LINE.match(line)
            if match is None:
                if fields:
                    break
                continue
            fields.append((match["name"], match["type"].strip()))
    return fields


def input_values(user: str) -> dict[str, str]:
    """``[[ ## name ## ]]`` blocks of a user message, by name (ChatAdapter inputs)."""
    values = {m["name"]: m["value"].strip() for m in _BLOCK.finditer(user)}
    if not values:
        # JSONAdapter sends the same blocks; anything else: the whole message is the input.
        values = {"input": user.strip()}
    # The trailing instructions ("Respond with ...") follow the last block's value.
    return {k: v.split("\n\nRespond with")[0].strip() for k, v in values.items()}


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def _literal_values(type_text: str) -> list[str] | None:
    match = re.fullmatch(r"Literal\[(.*)\]", type_text)
    if match is None:
        return None
    return [v.strip().strip("'\"") for v in match[1].split(",") if v.strip()]


def typed_value(type_text: str, seed: bytes) -> Any:
    """A deterministic value of the type DSPy named (``str``, ``int``, ``float``, ...)."""
    number = int.from_bytes(seed[:8], "big")
    literals = _literal_values(type_text)
    if literals:
        return literals[number % len(literals)]
    if type_text == "int":
        return number % 100
    if type_text == "float":
        return round((number % 1000) / 1000, 3)
    if type_text == "bool":
        return number % 2 == 0
    if type_text.startswith("list["):
        inner = type_text[5:-1]
        return [typed_value(inner, _digest(seed.hex(), str(i))) for i in range(1 + number % 3)]
    if type_text.startswith("dict["):
        return {"key": typed_value("str", seed)}
    return f"answer-{seed.hex()[:10]}"


def answer_values(
    fields: Sequence[tuple[str, str]], inputs: Mapping[str, str], qa: Mapping[str, str]
) -> dict[str, Any]:
    """A value per output field: the QA answer where the question is known, else hashed."""
    canonical = json.dumps(sorted(inputs.items()), ensure_ascii=False)
    known = None
    for key in ("question", *inputs):
        if key in inputs:
            known = qa.get(normalise_question(inputs[key]))
            if known is not None:
                break
    values: dict[str, Any] = {}
    str_fields = [name for name, type_text in fields if type_text == "str"]
    answer_field = "answer" if "answer" in str_fields else (str_fields[0] if str_fields else None)
    for name, type_text in fields:
        if known is not None and name == answer_field:
            values[name] = known
        elif name == "reasoning":
            values[name] = "Deterministic loopback reasoning."
        else:
            values[name] = typed_value(type_text, _digest(canonical, name))
    return values


def _chat_value(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render_chat(values: Mapping[str, Any]) -> str:
    """ChatAdapter answer: a ``[[ ## field ## ]]`` block per field, then ``completed``."""
    blocks = [f"[[ ## {name} ## ]]\n{_chat_value(value)}" for name, value in values.items()]
    return "\n\n".join([*blocks, "[[ ## completed ## ]]"])


def wants_json(messages: Sequence[Mapping[str, Any]], request: Mapping[str, Any]) -> bool:
    """True for a JSONAdapter prompt (a ``response_format`` or its JSON instructions)."""
    if request.get("response_format"):
        return True
    last = message_text(messages[-1].get("content")) if messages else ""
    return "JSON object" in last and "[[ ## completed ## ]]" not in last


def answer(
    messages: Sequence[Mapping[str, Any]], request: Mapping[str, Any], qa: Mapping[str, str]
) -> str:
    """The completion text for a chat request."""
    system = "\n".join(
        message_text(m.get("content")) for m in messages if m.get("role") == "system"
    )
    users = [message_text(m.get("content")) for m in messages if m.get("role") == "user"]
    inputs = input_values(users[-1] if users else "")
    fields = output_fields(system)
    if not fields:
        # Not a DSPy prompt: a plain deterministic reply (or the known answer).
        question = inputs.get("question", inputs.get("input", ""))
        return qa.get(normalise_question(question)) or f"answer-{_digest(question).hex()[:10]}"
    values = answer_values(fields, inputs, qa)
    if wants_json(messages, request):
        return json.dumps(values, ensure_ascii=False)
    return render_chat(values)


def embedding(text: str, dim: int) -> list[float]:
    """A deterministic unit vector for ``text`` (hash-seeded; equal texts, equal vectors)."""
    raw: list[float] = []
    counter = 0
    while len(raw) < dim:
        block = _digest(text, str(counter))
        raw.extend((b - 127.5) / 127.5 for b in block)
        counter += 1
    vector = raw[:dim]
    norm = sum(v * v for v in vector) ** 0.5 or 1.0
    return [v / norm for v in vector]


def count_tokens(text: str) -> int:
    """A crude, deterministic token count (whitespace-separated words)."""
    return len(text.split())
