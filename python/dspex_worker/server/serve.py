"""Negotiate on the channel, then run the request loop: the body of every worker entry point."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NoReturn

from dspex_worker import exit_codes, logs
from dspex_worker.boot import CommandLine
from dspex_worker.protocol.errors import WIRE_ERRORS
from dspex_worker.protocol.frames import FrameReader, FrameWriter
from dspex_worker.protocol.writer import MessageWriter
from dspex_worker.protocol.negotiation import HelloRefusedError, serve_hello
from dspex_worker.protocol.settings import DEFAULT_SETTINGS, ProtocolSettings
from dspex_worker.server.hello import HelloSetup
from dspex_worker.server.loop import Worker, exit_now, report_fatal
from dspex_worker.server.options import WorkerOptions
from dspex_worker.server.profile import Profile

_log = logs.get_logger("serve")


def initial_options(profile: Profile, command_line: CommandLine) -> WorkerOptions:
    """The options before hello: the profile's defaults and the command line."""
    return WorkerOptions(
        worker_id=command_line.worker_id,
        request_threads=profile.request_threads,
        log_level=None,
    )


def serve(
    channel_in: Any,
    channel_out: Any,
    profile: Profile,
    command_line: CommandLine = CommandLine(),
    settings: ProtocolSettings = DEFAULT_SETTINGS,
    *,
    hard_exit: Callable[[int], NoReturn] = exit_now,
) -> int:
    """Serve one client on the channel; returns the exit status (:mod:`dspex_worker.exit_codes`)."""
    frames_in = FrameReader(channel_in, v2=False, peer="client")
    frames_out = FrameWriter(channel_out, v2=False, peer="client")
    hello = HelloSetup(profile, initial_options(profile, command_line))
    advertised = profile.advertised_handlers or tuple(profile.registry.handler_names())
    try:
        session = serve_hello(
            frames_in, frames_out, settings=settings, handlers=advertised, configure=hello
        )
    except WIRE_ERRORS as exc:
        return report_fatal(MessageWriter(frames_out), exc)
    except HelloRefusedError as exc:
        _log.error("%s", exc, exc_info=exc.__cause__)
        return exit_codes.STARTUP_FAILED
    except BrokenPipeError:
        return exit_codes.OK
    if session is None:
        _log.info("the client closed the channel before hello")
        return exit_codes.OK
    _log.info(
        "%s serving %s, pid %d, %d request thread(s), handlers: %s",
        profile.name,
        session.protocol,
        os.getpid(),
        hello.options.request_threads,
        ", ".join(profile.registry.handler_names()) or "none",
    )
    return Worker(session, profile, hello.options, hard_exit=hard_exit).run()
