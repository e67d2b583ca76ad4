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
- ``GET /requests``: the live chat request bodies received, oldest first (as many as prompts).
- OpenAI's Batch API (``POST /v1/files``, ``POST /v1/batches``, ``GET /v1/batches/{id}``,
  ``GET /v1/files/{id}/content``, ...): see :mod:`.batch_api`; each request of a batch is
  answered like a live chat call, once ``--batch-delay-s`` has passed.

Misbehaviour on demand, by marker strings in the prompt:

- ``__DSPEX_429__``: the first attempt of each distinct request gets 429 (with
  ``Retry-After: 0``), later attempts succeed; ``__DSPEX_429_ALWAYS__``: always 429.
- ``__DSPEX_500__``: always 500.
- ``__DSPEX_MALFORMED__``: a 200 whose text follows no adapter format.

and by rates (``--rate-429``, ``--rate-500``, ``--rate-malformed``): that fraction of
distinct requests, chosen by a hash of the request (deterministic across runs),
gets a 429 or 500 on their first attempt, or malformed text on every attempt.

``--latency-ms`` delays every live answer (``--batch-delay-s`` delays a batch). The server
stops itself after ``--max-seconds`` (default 600), on SIGTERM/SIGINT, or when its stdin
closes with ``--exit-on-stdin-eof``; it prints its stats as a JSON line on stderr when it stops.
The answers and counters live in :mod:`.loopback_state`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dspex_testing import lm_answers
from dspex_testing.loopback_state import LoopbackState, chat_answer


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

    def _send(self, status: int, payload: Any) -> None:
        """A JSON payload, or raw bytes (a file's content) as ``application/octet-stream``."""
        if not isinstance(payload, bytes):
            self._send_json(status, payload)
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    @staticmethod
    def _is_batch_api(path: str) -> bool:
        return path.split("?")[0].rstrip("/").startswith(("/v1/files", "/v1/batches"))

    def do_GET(self) -> None:
        if self._is_batch_api(self.path):
            self._send(*self.server.state.batch_api.get(self.path))
        elif self.path.rstrip("/") == "/stats":
            self._send_json(200, self.server.state.stats())
        elif self.path.rstrip("/") == "/prompts":
            self._send_json(200, {"prompts": self.server.state.recent_prompts()})
        elif self.path.rstrip("/") == "/requests":
            self._send_json(200, {"requests": self.server.state.recent_bodies()})
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
        if self._is_batch_api(path):
            self._send(*state.batch_api.post(path, self.headers.get("Content-Type", ""), raw))
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
            self._chat(request)
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

    def _chat(self, request: Mapping[str, Any]) -> None:
        status, payload = chat_answer(self.server.state, request)
        headers = {"Retry-After": "0"} if status == 429 else {}
        self._send_json(status, payload, headers)

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
    parser.add_argument("--batch-delay-s", type=float, default=0.0,
                        help="how long a Batch API batch stays in_progress before it completes")
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
