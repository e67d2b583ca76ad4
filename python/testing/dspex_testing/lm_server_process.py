"""Start and stop the loopback LM server (:mod:`.lm_server`) from tests and benchmarks."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from typing import Any

from dspex_testing.client import PYTHON_ROOT, child_env


class LMServerProcess:
    """``python -m dspex_testing.lm_server`` as a subprocess (a context manager).

    Args:
        argv: extra command-line options (``--latency-ms``, ``--rate-429``, ...).
        max_seconds: the server's own deadline, so a crashed test cannot leak it.
    """

    def __init__(self, argv: Sequence[str] = (), *, max_seconds: float = 300.0) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dspex_testing.lm_server",
             "--max-seconds", str(max_seconds), "--exit-on-stdin-eof", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=PYTHON_ROOT,
            env=child_env(),
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"lm_server did not start: {self.stderr()}")
        self.port: int = json.loads(line)["port"]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """The OpenAI-style API base (``.../v1``)."""
        return f"{self.base_url}/v1"

    def _request(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"{self.base_url}{path}", method=method,
                                         data=b"{}" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        """The server's counters (``GET /stats``)."""
        return self._request("GET", "/stats")

    def prompts(self) -> list[str]:
        """The chat prompts the server received, oldest first (``GET /prompts``)."""
        return list(self._request("GET", "/prompts")["prompts"])

    def requests(self) -> list[dict[str, Any]]:
        """The live chat request bodies the server received, oldest first (``GET /requests``)."""
        return list(self._request("GET", "/requests")["requests"])

    def reset(self) -> None:
        """Zero the server's counters and forget its prompts (``POST /reset``)."""
        self._request("POST", "/reset")

    def stderr(self) -> str:
        """What the server wrote to stderr (its final stats line once stopped)."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def close(self) -> int:
        """Stop the server (stdin EOF, then SIGTERM/SIGKILL if needed); returns its status."""
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                return self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()
        finally:
            if self.process.stdout:
                self.process.stdout.close()

    def __enter__(self) -> LMServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
