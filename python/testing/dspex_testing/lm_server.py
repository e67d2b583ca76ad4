"""A loopback OpenAI-compatible LM server for tests and benchmarks.

``python -m dspex_testing.lm_server [options]`` listens on 127.0.0.1 (port 0:
any free port), prints one JSON line ``{"port": N}`` on stdout, and serves:

- ``POST /v1/chat/completions``: a deterministic answer in DSPy's ChatAdapter format
  (``[[ ## field ## ]]`` blocks with typed values, see :mod:`.lm_answers`), or a JSON
  object for DSPy's JSONAdapter; questions of ``testdata/qa/qa.jsonl`` get their
  known answer; ``usage`` counts whitespace-separated words.
- ``POST /v1/embeddings``: deterministic unit vectors (``--embed-dim``).
- ``GET /stats``: the calls received, by kind; ``POST /reset`` zeroes them.
- ``GET /prompts``: the chat prompts received (``{"prompts": [text, ...]}``, oldest first, the
  last ``--keep-prompts`` of them), so a test can check what a program sent; ``/reset`` clears them.
- ``GET /repeats``: the chat requests seen more than once, with when each was first answered.

Misbehaviour on demand, by marker strings in the prompt:

- ``__DSPEX_429__``: the first attempt of each distinct request gets 429 (with
  ``Retry-After: 0``), later attempts succeed; ``__DSPEX_429_ALWAYS__``: always 429.
- ``__DSPEX_500__``: always 500.
- ``__DSPEX_MALFORMED__``: a 200 whose text follows no adapter format.

and by rates (``--rate-429``, ``--rate-500``, ``--rate-malformed``): that fraction of
distinct requests, chosen by a hash of the request (deterministic across runs),
gets a 429 or 500 on their first attempt, or malformed text on every attempt.

``--latency-ms`` delays every answer. The server stops itself after
``--max-seconds`` (default 600), on SIGTERM/SIGINT, or when its stdin closes with
``--exit-on-stdin-eof``; it prints its stats as a JSON line on stderr when it stops.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dspex_testing import lm_answers


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

    def prompt(self, text: str) -> None:
        """Keep a chat prompt (the last ``--keep-prompts`` are kept)."""
        with self.lock:
            self.prompts.append(text)

    def recent_prompts(self) -> list[str]:
        """The kept chat prompts, oldest first."""
        with self.lock:
            return list(self.prompts)

    def count(self, *keys: str) -> None:
        """Add one to each counter in ``keys``."""
        with self.lock:
            for key in keys:
                self.counts[key] += 1

    def answered(self, prompt_tokens: int, completion_tokens: int, request_key: str | None = None) -> None:
        """Count a chat answer sent and the tokens its ``usage`` reports; note when a request was first answered."""
        with self.lock:
            if request_key is not None:
                self.first_answered.setdefault(request_key, time.monotonic() - self.started)
            self.counts["ok"] += 1
            self.counts["prompt_tokens"] += prompt_tokens
            self.counts["completion_tokens"] += completion_tokens

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
        prompts seen, ``repeated_chat_requests`` those seen more than once: a test
        that an answered record is never paid for twice reads it.
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
                "uptime_s": round(time.monotonic() - self.started, 3)}

    def reset(self) -> None:
        """Zero the counters, forget attempts and call times."""
        with self.lock:
            self.counts.clear()
            self.attempts.clear()
            self.prompts.clear()
            self.first_answered.clear()
            self.first_call = None
            self.last_call = None
            self.max_in_flight = self.in_flight


def _fraction(key: str, salt: str) -> float:
    """A deterministic number in [0, 1) for a request key."""
    digest = hashlib.sha256(f"{salt}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class Handler(BaseHTTPRequestHandler):
    """One HTTP request (ThreadingHTTPServer runs each on its own thread)."""

    server: LoopbackServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: one line per call would drown a benchmark's stderr.
        return

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] = {}) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/stats":
            self._send_json(200, self.server.state.stats())
        elif self.path.rstrip("/") == "/prompts":
            self._send_json(200, {"prompts": self.server.state.recent_prompts()})
        elif self.path.rstrip("/") == "/repeats":
            self._send_json(200, {"repeats": self.server.state.repeats()})
        elif self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send_json(200, {"object": "list", "data": [{"id": "loopback", "object": "model"}]})
        else:
            self._send_json(404, {"error": {"message": f"no such path {self.path}"}})

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length", "0") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.rstrip("/")
        if path == "/reset":
            state.reset()
            self._send_json(200, {"ok": True})
            return
        try:
            request = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            state.count("calls", "bad_requests")
            self._send_json(400, {"error": {"message": f"bad JSON: {exc}"}})
            return
        state.entered()
        try:
            self._serve(path, request, raw)
        finally:
            state.left()

    def _serve(self, path: str, request: Mapping[str, Any], raw: bytes) -> None:
        state = self.server.state
        latency = state.options.latency_ms / 1000
        if latency > 0:
            time.sleep(latency)
        if path.endswith("/chat/completions"):
            state.called()
            state.count("chat_calls")
            self._chat(request, raw)
        elif path.endswith("/embeddings"):
            state.called()
            state.count("embedding_calls")
            self._embeddings(request)
        else:
            state.count("calls", "bad_requests")
            self._send_json(404, {"error": {"message": f"no such path {self.path}"}})

    def _error(self, status: int, kind: str, message: str) -> None:
        self.server.state.count(f"errors_{status}")
        headers = {"Retry-After": "0"} if status == 429 else {}
        self._send_json(status, {"error": {"message": message, "type": kind, "code": status}}, headers)

    def _chat(self, request: Mapping[str, Any], raw: bytes) -> None:
        state, options = self.server.state, self.server.state.options
        messages = request.get("messages") or []
        if not isinstance(messages, list) or not messages:
            state.count("bad_requests")
            self._send_json(400, {"error": {"message": "messages must be a non-empty list"}})
            return
        prompt = lm_answers.prompt_text(messages)
        state.prompt(prompt)
        key = hashlib.sha256(prompt.encode("utf-8")).hexdigest()
        attempt = state.attempt(key)
        if lm_answers.MARKER_429_ALWAYS in prompt:
            self._error(429, "rate_limit_exceeded", "loopback: rate limited (always)")
            return
        if attempt == 0 and (
            lm_answers.MARKER_429 in prompt or _fraction(key, "429") < options.rate_429
        ):
            self._error(429, "rate_limit_exceeded", "loopback: rate limited, retry")
            return
        if lm_answers.MARKER_500 in prompt or (
            attempt == 0 and _fraction(key, "500") < options.rate_500
        ):
            self._error(500, "server_error", "loopback: internal server error")
            return
        if lm_answers.MARKER_MALFORMED in prompt or _fraction(key, "bad") < options.rate_malformed:
            state.count("malformed")
            text = lm_answers.MALFORMED_TEXT
        else:
            text = lm_answers.answer(messages, request, state.qa)
        prompt_tokens = lm_answers.count_tokens(prompt)
        completion_tokens = lm_answers.count_tokens(text)
        state.answered(prompt_tokens, completion_tokens, key)
        self._send_json(200, {
            "id": f"chatcmpl-{key[:16]}",
            "object": "chat.completion",
            "created": 0,
            "model": str(request.get("model", "loopback")),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })

    def _embeddings(self, request: Mapping[str, Any]) -> None:
        state = self.server.state
        texts = request.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            state.count("bad_requests")
            self._send_json(400, {"error": {"message": "input must be a string or a list of strings"}})
            return
        if any(lm_answers.MARKER_500 in t for t in texts):
            self._error(500, "server_error", "loopback: internal server error")
            return
        state.count("ok")
        dim = state.options.embed_dim
        tokens = sum(lm_answers.count_tokens(t) for t in texts)
        self._send_json(200, {
            "object": "list",
            "model": str(request.get("model", "loopback")),
            "data": [{"object": "embedding", "index": i, "embedding": lm_answers.embedding(t, dim)}
                     for i, t in enumerate(texts)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })


class LoopbackServer(ThreadingHTTPServer):
    """The HTTP server, carrying the shared state."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: LoopbackState) -> None:
        super().__init__(address, Handler)
        self.state = state


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m dspex_testing.lm_server",
                                     description="Loopback OpenAI-compatible LM server for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="stop after this long, so a test can never leak the server")
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--rate-500", type=float, default=0.0)
    parser.add_argument("--rate-malformed", type=float, default=0.0)
    parser.add_argument("--embed-dim", type=int, default=32)
    parser.add_argument("--keep-prompts", type=int, default=1000,
                        help="chat prompts kept for GET /prompts (the last N)")
    parser.add_argument("--qa", default=None, help="QA set (default: testdata/qa/qa.jsonl)")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin closes (the parent went away)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until stopped; returns the exit status."""
    options = parse_args(argv)
    state = LoopbackState(options)
    server = LoopbackServer((options.host, options.port), state)
    stop = threading.Event()

    def request_stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    if options.exit_on_stdin_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    stop.wait(options.max_seconds)
    server.shutdown()
    server.server_close()
    print(json.dumps({"lm_server_stats": state.stats()}), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
