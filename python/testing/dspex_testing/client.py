"""A client for driving a worker process in tests: spawn, hello, requests, streams.

It uses the same protocol classes as the worker, on the client side of the
channel; the Java connector is the real client.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dspex_worker.protocol.frames import FrameReader, FrameType, FrameWriter
from dspex_worker.protocol.message import Message
from dspex_worker.protocol.reader import MessageReader
from dspex_worker.protocol.writer import BodyFormats, MessageWriter
from dspex_worker.protocol.negotiation import Session, client_hello
from dspex_worker.protocol.settings import DEFAULT_SETTINGS, ProtocolSettings

#: The directory holding the ``dspex_worker`` package (``python/``).
PYTHON_ROOT = Path(__file__).resolve().parents[2]
#: The directory holding this package (``python/testing``), not shipped with the worker.
TESTING_ROOT = Path(__file__).resolve().parents[1]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with both packages first on ``PYTHONPATH``, plus ``extra``."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PYTHON_ROOT), str(TESTING_ROOT), environment.get("PYTHONPATH")) if p
    )
    environment.update(extra or {})
    return environment

_STREAM_ENDS = (FrameType.STREAM_END, FrameType.STREAM_ERROR)


class WorkerProcess:
    """A worker module run as a real subprocess, with its channel on stdin/stdout.

    Args:
        module: the module to run with ``python -m``.
        env: extra environment variables.
        argv: command-line arguments after the module name.
    """

    def __init__(
        self,
        module: str = "dspex_testing.echo",
        *,
        env: Mapping[str, str] | None = None,
        argv: Sequence[str] = (),
    ):
        # A file, not a pipe: a chatty worker must not block on a full stderr pipe.
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=PYTHON_ROOT,
            env=child_env(env),
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        peer = f"worker pid {self.process.pid}"
        self.frames_in = FrameReader(self.process.stdout, v2=False, peer=peer)
        self.frames_out = FrameWriter(self.process.stdin, v2=False, peer=peer)
        self.reader = MessageReader(self.frames_in)
        self.writer = MessageWriter(self.frames_out)
        self.session: Session | None = None
        self._ids = itertools.count(1)

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def hello(
        self,
        *,
        spill_dir: str | os.PathLike[str] | None = None,
        protocols: Sequence[str] = ("v2", "v1"),
        settings: ProtocolSettings | None = None,
        args: Mapping[str, Any] | None = None,
    ) -> Session:
        """Negotiate; afterwards requests use the negotiated framing.

        ``args`` are extra hello args for the worker itself (``handler_modules``, ...).
        """
        self.session = client_hello(
            self.frames_in,
            self.frames_out,
            protocols=protocols,
            spill_dir=os.fspath(spill_dir) if spill_dir is not None else None,
            settings=settings,
            extra_args=args,
        )
        self.reader, self.writer = self.session.reader, self.session.writer
        return self.session

    @property
    def settings(self) -> ProtocolSettings:
        """The settings in force."""
        return self.session.settings if self.session else DEFAULT_SETTINGS

    def send(
        self,
        command: str,
        args: Mapping[str, Any] | None = None,
        bodies: Mapping[str, Any] | None = None,
        *,
        formats: BodyFormats = None,
    ) -> int:
        """Write a request; returns its id."""
        request_id = next(self._ids)
        self.writer.write_request(request_id, command, args, bodies, formats=formats)
        return request_id

    def read(self) -> Message | None:
        """Read the next message or stream event."""
        return self.reader.read()

    def call(
        self,
        command: str,
        args: Mapping[str, Any] | None = None,
        bodies: Mapping[str, Any] | None = None,
        *,
        formats: BodyFormats = None,
    ) -> Message:
        """Send a request and read its response."""
        request_id = next(self._ids)
        refs = self.writer.write_request(request_id, command, args, bodies, formats=formats)
        response = self.read()
        # A request's REF files stay the client's until the answer is in (spec 4).
        self.writer.discard(refs)
        assert response is not None, f"worker closed the channel; stderr: {self.stderr()}"
        assert response.id == request_id, f"response id {response.id} for request {request_id}"
        return response

    def release(self, message: Message) -> None:
        """Delete the REF files a response handed over (after decoding its bodies)."""
        spill = self.session.spill if self.session else None
        for body in message.bodies.values():
            if body.ref is not None and spill is not None:
                spill.delete(body.ref.path)

    def stream(
        self,
        command: str,
        args: Mapping[str, Any] | None = None,
        bodies: Mapping[str, Any] | None = None,
        *,
        formats: BodyFormats = None,
    ) -> list[Message]:
        """Send a streaming request; return its events up to END/ERROR (or a response)."""
        request_id = self.send(command, args, bodies, formats=formats)
        events: list[Message] = []
        while True:
            event = self.read()
            assert event is not None, f"worker closed the channel; stderr: {self.stderr()}"
            assert event.id == request_id
            events.append(event)
            if not event.is_stream or event.frame_type in _STREAM_ENDS:
                return events

    def write_raw(self, data: bytes) -> None:
        """Write bytes straight onto the channel."""
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def close_input(self) -> None:
        """Close the worker's stdin (EOF on its channel)."""
        if self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for the worker to exit; returns its exit status."""
        return self.process.wait(timeout=timeout)

    def stderr(self) -> str:
        """What the worker wrote to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def close(self) -> None:
        """Close the channel and make sure the process is gone."""
        self.close_input()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self._stderr.close()
