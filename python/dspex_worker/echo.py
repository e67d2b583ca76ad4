"""A minimal echo worker for cross-language protocol tests: ``python -m dspex_worker.echo``.

It negotiates like a real worker (``spill_dir`` from hello) and serves:

- ``ping`` -> result ``{"ok": true}``.
- ``echo`` -> result = the request's ``args`` (inline JSON bodies included,
  so they come back inline); every body frame is decoded and re-encoded in
  the content format it arrived in (a REF body comes back as a new REF file
  ``w<pid>-<seq>.<format>`` that the client deletes; a JSON body frame comes
  back inline in ``result``, as writers inline JSON bodies).
- ``echo_stream`` -> body ``inputs`` (a list of records, or an ndarray),
  args ``{"chunk_size": k, "break_after_chunks"?: j}``: STREAM_START
  ``{id, n}``, chunks of ``k`` elements (records with ``"fail": true`` are
  reported in ``failed`` as ``ValueError`` "record <i> asked to fail"; the
  others go in body ``outputs`` in the content format of ``inputs``), then
  STREAM_END ``{id, ok, failed, usage}`` with counts; with
  ``break_after_chunks`` the handler raises after that many chunks and a
  STREAM_ERROR (``RuntimeError``) ends the stream instead.
- ``shutdown`` -> ``{"ok": true}``, then exit 0. EOF -> exit 0.
- Anything else -> error ``UnknownCommand``.

A bad body (``CorruptedPayload``, ``Ref*``) fails only its request. A
channel-level error is answered (if possible) with an error response of id 0
and the worker exits with status 2. A legacy client that never says hello
is served ``ping`` and ``echo`` in V1, JSON inline only.
"""

from __future__ import annotations

import sys
from typing import Any

from dspex_worker.protocol import headers
from dspex_worker.protocol.errors import ProtocolError, UnexpectedFrameError
from dspex_worker.protocol.frames import FrameReader, FrameWriter
from dspex_worker.protocol.messages import Message
from dspex_worker.protocol.negotiation import Session, serve_hello
from dspex_worker.protocol.settings import DEFAULT_SETTINGS, ProtocolSettings

COMMANDS = ("ping", "echo", "echo_stream", "shutdown")
EXIT_OK = 0
EXIT_PROTOCOL_ERROR = 2

UNKNOWN_COMMAND = "UnknownCommand"


class _Shutdown(Exception):
    """Raised by the shutdown command once its response is written."""


def _reencodable(message: Message, name: str) -> Any:
    """A body decoded to values, ready to be encoded again in its format."""
    value = message.body(name)
    if message.body_format(name) == "arrow":
        from dspex_worker.codec import arrow_codec

        # Keep the received column types (an all-null utf8 column stays utf8).
        return arrow_codec.records_to_batch(value, message.body_schema(name))
    return value


def _format_of(message: Message, name: str) -> str:
    fmt = message.body_format(name)
    return f"ref:{fmt}" if message.body_is_ref(name) else fmt


class EchoWorker:
    """Serves the echo commands on a negotiated session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.writer = session.writer

    def run(self) -> int:
        """Serve until EOF (0), shutdown (0) or a broken channel (2)."""
        try:
            if self.session.pending is not None:
                self.handle(self.session.pending)
            while True:
                try:
                    message = self.session.reader.read()
                except ProtocolError as exc:
                    return fatal(self.writer.frames, exc)
                if message is None:
                    return EXIT_OK
                if not message.is_request:
                    return fatal(
                        self.writer.frames,
                        UnexpectedFrameError(
                            f"the worker takes requests only, got {message!r}", peer="client"
                        ),
                    )
                self.handle(message)
        except _Shutdown:
            return EXIT_OK

    def handle(self, message: Message) -> None:
        """Answer one request; errors fail that request only."""
        command = message.command
        try:
            if command == "ping":
                self.writer.write_response(message.id, {"ok": True})
            elif command == "echo":
                self.echo(message)
            elif command == "echo_stream" and self.session.v2:
                self.echo_stream(message)
            elif command == "shutdown":
                self.writer.write_response(message.id, {"ok": True})
                raise _Shutdown
            else:
                self.writer.write_error(
                    message.id,
                    headers.error_map(UNKNOWN_COMMAND, f"Unknown command: {command}"),
                )
        except (_Shutdown, BrokenPipeError):
            raise
        except Exception as exc:  # noqa: BLE001 - any handler failure is the request's
            self.writer.write_error(message.id, exc)

    def echo(self, message: Message) -> None:
        """Result = args; body frames decoded and re-encoded in their own format."""
        bodies = {name: _reencodable(message, name) for name in message.bodies}
        formats = {name: _format_of(message, name) for name in message.bodies}
        self.writer.write_response(message.id, dict(message.args), bodies, formats=formats)

    def echo_stream(self, message: Message) -> None:
        """Stream ``inputs`` back in chunks, failing records that ask to."""
        inputs = message.body("inputs")
        content = message.body_format("inputs")
        schema = message.body_schema("inputs") if content == "arrow" else None
        args = message.args
        chunk_size = args.get("chunk_size", 1)
        if type(chunk_size) is not int or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, was {chunk_size!r}")
        break_after = args.get("break_after_chunks")
        n = len(inputs)
        self.writer.write_stream_start(message.id, n)
        ok = failed_total = chunks = 0
        try:
            for start in range(0, n, chunk_size):
                if break_after is not None and chunks >= break_after:
                    raise RuntimeError(f"echo_stream asked to break after {chunks} chunks")
                indexes, failed = [], []
                for index in range(start, min(n, start + chunk_size)):
                    record = inputs[index]
                    if isinstance(record, dict) and record.get("fail") is True:
                        failed.append(
                            headers.failure(index, "ValueError", f"record {index} asked to fail")
                        )
                    else:
                        indexes.append(index)
                self.writer.write_stream_chunk(
                    message.id,
                    indexes,
                    failed,
                    headers.usage_map(),
                    {"outputs": self._outputs(inputs, indexes, content, schema)},
                    formats={"outputs": content},
                )
                ok += len(indexes)
                failed_total += len(failed)
                chunks += 1
            self.writer.write_stream_end(message.id, ok, failed_total, headers.usage_map())
        except BrokenPipeError:
            raise
        except Exception as exc:  # noqa: BLE001 - after START, failures end the stream
            self.writer.write_stream_error(message.id, exc)

    @staticmethod
    def _outputs(inputs: Any, indexes: list[int], content: str, schema: Any) -> Any:
        if content == "numpy":
            return inputs[indexes]
        outputs = [inputs[index] for index in indexes]
        if content == "arrow":
            from dspex_worker.codec import arrow_codec

            return arrow_codec.records_to_batch(outputs, schema)
        return outputs


def fatal(frames_out: FrameWriter, exc: ProtocolError) -> int:
    """Report a broken channel (response id 0, if it can still be written) and give up."""
    print(f"dspex echo worker: {exc}", file=sys.stderr)
    try:
        from dspex_worker.protocol.messages import MessageWriter

        MessageWriter(frames_out).write_error(0, exc, with_traceback=False)
    except Exception as write_exc:  # noqa: BLE001 - best effort on a broken channel
        print(f"dspex echo worker: could not report it: {write_exc}", file=sys.stderr)
    return EXIT_PROTOCOL_ERROR


def serve(channel_in: Any, channel_out: Any, settings: ProtocolSettings = DEFAULT_SETTINGS) -> int:
    """Negotiate on the channel and serve until EOF, shutdown or a broken channel."""
    frames_in = FrameReader(channel_in, v2=False, peer="client")
    frames_out = FrameWriter(channel_out, v2=False, peer="client")
    try:
        session = serve_hello(frames_in, frames_out, settings=settings, handlers=COMMANDS)
    except ProtocolError as exc:
        return fatal(frames_out, exc)
    if session is None:
        return EXIT_OK
    try:
        return EchoWorker(session).run()
    except BrokenPipeError:
        return EXIT_OK


def main() -> int:
    """Entry point: claim stdin/stdout for the channel and serve."""
    from dspex_worker.stdio import claim_stdio

    channel_in, channel_out = claim_stdio()
    return serve(channel_in, channel_out)


if __name__ == "__main__":
    sys.exit(main())
