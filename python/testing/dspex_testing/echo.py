"""A minimal echo worker for cross-language protocol tests: ``python -m dspex_testing.echo``.

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

Requests are answered one at a time, in arrival order. It is the worker of
``python -m dspex_worker`` (same loop, process setup and exit statuses) with
a profile that serves only these commands; the handlers themselves live in
:mod:`dspex_testing.echo_handlers`.
"""

from __future__ import annotations

import sys
from typing import Any

from dspex_worker import exit_codes
from dspex_worker.handlers import Registry
from dspex_worker.protocol.settings import DEFAULT_SETTINGS, ProtocolSettings
from dspex_worker.server.profile import Profile
from dspex_testing.echo_handlers import register_echo

COMMANDS = ("ping", "echo", "echo_stream", "shutdown")
EXIT_OK = exit_codes.OK
EXIT_PROTOCOL_ERROR = exit_codes.PROTOCOL_ERROR

UNKNOWN_COMMAND = "UnknownCommand"


def echo_profile() -> Profile:
    """The echo worker: ping and shutdown, the two echo handlers, one request at a time."""
    return Profile(
        name="dspex echo worker",
        registry=register_echo(Registry()),
        commands=("ping", "shutdown"),
        request_threads=0,
        detailed_ping=False,
        advertised_handlers=COMMANDS,
    )


def serve(channel_in: Any, channel_out: Any, settings: ProtocolSettings = DEFAULT_SETTINGS) -> int:
    """Negotiate on the channel and serve until EOF, shutdown or a broken channel."""
    from dspex_worker.server.serve import serve as serve_profile

    return serve_profile(channel_in, channel_out, echo_profile(), settings=settings)


def main(argv: list[str] | None = None) -> int:
    """Entry point: arm the process, claim stdin/stdout for the channel and serve."""
    from dspex_worker.boot import boot
    from dspex_worker.server.serve import serve as serve_profile

    booted = boot(sys.argv[1:] if argv is None else argv, prog="python -m dspex_testing.echo")
    return serve_profile(
        booted.channel_in, booted.channel_out, echo_profile(), booted.command_line
    )


if __name__ == "__main__":
    sys.exit(main())
