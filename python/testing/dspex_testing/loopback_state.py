"""The loopback LM server's shared state and its chat answers (:mod:`.lm_server` serves them).

:class:`LoopbackState` holds the options, the QA set and the counters every request thread
updates; :func:`chat_answer` answers one chat request body as the live endpoint does, and as
the Batch API (:mod:`.batch_api`, owned by the state) answers each request of a batch.
"""

from __future__ import annotations

import argparse
import hashlib
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from typing import Any

from dspex_testing import lm_answers
from dspex_testing.batch_api import BatchApi


class LoopbackState:
    """Options, the QA set and call counters shared by all request threads."""

    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.qa = lm_answers.load_qa(options.qa)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self.first_answered: dict[str, float] = {}
        self.started = time.monotonic()
        self.first_call: float | None = None
        self.last_call: float | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self.prompts: deque[str] = deque(maxlen=max(0, options.keep_prompts))
        #: The last live chat request bodies, as received (``GET /requests``).
        self.bodies: deque[dict[str, Any]] = deque(maxlen=max(0, options.keep_prompts))
        #: The Batch API's files and batches; each request is answered like a live chat call.
        self.batch_api = BatchApi(lambda body: chat_answer(self, body, prefix="batch_"),
                                  delay_s=options.batch_delay_s)

    def prompt(self, text: str) -> None:
        """Keep a chat prompt (the last ``--keep-prompts`` are kept)."""
        with self.lock:
            self.prompts.append(text)

    def body(self, request: Mapping[str, Any]) -> None:
        """Keep a live chat request body (as many as prompts are kept)."""
        with self.lock:
            self.bodies.append(dict(request))

    def recent_bodies(self) -> list[dict[str, Any]]:
        """The kept live chat request bodies, oldest first."""
        with self.lock:
            return list(self.bodies)

    def recent_prompts(self) -> list[str]:
        """The kept chat prompts, oldest first."""
        with self.lock:
            return list(self.prompts)

    def count(self, *keys: str) -> None:
        """Add one to each counter in ``keys``."""
        with self.lock:
            for key in keys:
                self.counts[key] += 1

    def answered(self, prompt_tokens: int, completion_tokens: int, request_key: str | None = None,
                 prefix: str = "") -> None:
        """Count a chat answer sent and the tokens its ``usage`` reports; note when a request was
        first answered. ``prefix`` ``batch_`` counts a batch request's answer apart."""
        with self.lock:
            if request_key is not None:
                self.first_answered.setdefault(request_key, time.monotonic() - self.started)
            self.counts[f"{prefix}ok"] += 1
            self.counts[f"{prefix}prompt_tokens"] += prompt_tokens
            self.counts[f"{prefix}completion_tokens"] += completion_tokens

    def called(self) -> None:
        """Count one chat or embedding call and note when it came."""
        now = time.monotonic() - self.started
        with self.lock:
            self.counts["calls"] += 1
            if self.first_call is None:
                self.first_call = now
            self.last_call = now

    def entered(self) -> None:
        """A request is being served (its latency included): track the most at once."""
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def left(self) -> None:
        """A request was answered."""
        with self.lock:
            self.in_flight -= 1

    def attempt(self, request_key: str) -> int:
        """How many times this exact request was seen before (0 on the first attempt)."""
        with self.lock:
            seen = self.attempts[request_key]
            self.attempts[request_key] += 1
            return seen

    def repeats(self) -> list[dict[str, Any]]:
        """The chat requests seen more than once: when each was first answered (seconds since
        the server started, ``None`` if never) and how often it came. A test that a record
        answered before some moment is never paid again compares ``first_answer_s`` with it."""
        with self.lock:
            return [{"first_answer_s": None if k not in self.first_answered else round(self.first_answered[k], 4),
                     "calls": n} for k, n in self.attempts.items() if n > 1]

    def stats(self) -> dict[str, Any]:
        """Counters as a JSON-able map (``calls`` = every POST to an API endpoint).

        ``first_call_s`` and ``last_call_s`` are the arrival times of the first and the
        last chat or embedding call (seconds since the server started), ``None`` before
        any: a test measures the rate calls came at from them. ``max_in_flight`` is the
        most API requests served at once (latency included), which shows how many
        callers really worked in parallel; ``in_flight`` those being served now.
        ``prompt_tokens`` and ``completion_tokens`` sum the ``usage`` of the chat
        answers sent (``ok``). ``distinct_chat_requests`` counts the different chat
        prompts seen, ``repeated_chat_requests`` those seen more than once (live and batch
        requests alike): a test that an answered record is never paid for twice reads it.
        ``batch`` holds the Batch API's counters (:meth:`.batch_api.BatchApi.stats`) and its
        requests' answers (``ok``, ``errors_500``, ``malformed``, tokens), which the live
        counters leave out.
        """
        with self.lock:
            counts = dict(self.counts)
            distinct = len(self.attempts)
            repeated = sum(1 for seen in self.attempts.values() if seen > 1)
            first, last = self.first_call, self.last_call
            max_in_flight, in_flight = self.max_in_flight, self.in_flight
        keys = ("calls", "chat_calls", "embedding_calls", "ok", "errors_429", "errors_500",
                "malformed", "bad_requests", "prompt_tokens", "completion_tokens")
        return {**{k: counts.get(k, 0) for k in keys},
                "first_call_s": None if first is None else round(first, 4),
                "last_call_s": None if last is None else round(last, 4),
                "distinct_chat_requests": distinct,
                "repeated_chat_requests": repeated,
                "max_in_flight": max_in_flight,
                "in_flight": in_flight,
                "uptime_s": round(time.monotonic() - self.started, 3),
                "batch": {**self.batch_api.stats(),
                          **{k: counts.get(f"batch_{k}", 0) for k in (
                              "ok", "errors_429", "errors_500", "malformed", "prompt_tokens",
                              "completion_tokens")}}}

    def reset(self) -> None:
        """Zero the counters, forget attempts and call times."""
        with self.lock:
            self.counts.clear()
            self.attempts.clear()
            self.prompts.clear()
            self.bodies.clear()
            self.first_answered.clear()
            self.first_call = None
            self.last_call = None
            self.max_in_flight = self.in_flight
        self.batch_api.reset()


def _fraction(key: str, salt: str) -> float:
    """A deterministic number in [0, 1) for a request key."""
    digest = hashlib.sha256(f"{salt}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _error_body(status: int, kind: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": status}}


def chat_answer(state: LoopbackState, request: Mapping[str, Any], prefix: str = "") -> tuple[int, dict[str, Any]]:
    """The status and body of one chat request, as the live endpoint answers it (markers and
    rates included), counted in ``state``; ``prefix`` ``batch_`` counts a batch's requests apart.
    """
    options = state.options
    messages = request.get("messages") or []
    if not isinstance(messages, list) or not messages:
        state.count(f"{prefix}bad_requests")
        return 400, {"error": {"message": "messages must be a non-empty list"}}
    prompt = lm_answers.prompt_text(messages)
    state.prompt(prompt)
    if not prefix:
        state.body(request)
    key = hashlib.sha256(prompt.encode("utf-8")).hexdigest()
    attempt = state.attempt(key)
    if lm_answers.MARKER_429_ALWAYS in prompt:
        state.count(f"{prefix}errors_429")
        return 429, _error_body(429, "rate_limit_exceeded", "loopback: rate limited (always)")
    if attempt == 0 and (
        lm_answers.MARKER_429 in prompt or _fraction(key, "429") < options.rate_429
    ):
        state.count(f"{prefix}errors_429")
        return 429, _error_body(429, "rate_limit_exceeded", "loopback: rate limited, retry")
    if lm_answers.MARKER_500 in prompt or (
        attempt == 0 and _fraction(key, "500") < options.rate_500
    ):
        state.count(f"{prefix}errors_500")
        return 500, _error_body(500, "server_error", "loopback: internal server error")
    if lm_answers.MARKER_MALFORMED in prompt or _fraction(key, "bad") < options.rate_malformed:
        state.count(f"{prefix}malformed")
        text = lm_answers.MALFORMED_TEXT
    else:
        text = lm_answers.answer(messages, request, state.qa)
    prompt_tokens = lm_answers.count_tokens(prompt)
    completion_tokens = lm_answers.count_tokens(text)
    state.answered(prompt_tokens, completion_tokens, key, prefix)
    return 200, {
        "id": f"chatcmpl-{key[:16]}",
        "object": "chat.completion",
        "created": 0,
        "model": str(request.get("model", "loopback")),
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }
