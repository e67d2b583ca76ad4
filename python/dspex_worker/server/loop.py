"""The request loop: read on one thread, answer control commands inline, run handlers on a pool.

The reading thread never waits for a handler, so ``ping`` is answered while
handlers run and a slow request never holds up the others. Answers may go
out in any order (the client matches them by id); the message writer's lock
keeps each message's frames together.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from dspex_worker import exit_codes, logs
from dspex_worker.protocol.errors import WIRE_ERRORS, CodecError, ProtocolError, UnexpectedFrameError
from dspex_worker.protocol.message import Message
from dspex_worker.protocol.writer import MessageWriter
from dspex_worker.protocol.negotiation import Session
from dspex_worker.server import control
from dspex_worker.server.calls import Call, CallRunner, resolve
from dspex_worker.server.counters import RequestCounters
from dspex_worker.server.errors import RequestError, error_map_for
from dspex_worker.server.handles import HandleTable
from dspex_worker.server.options import WorkerOptions
from dspex_worker.server.profile import Profile

_log = logs.get_logger("loop")


def report_fatal(writer: MessageWriter, exc: ProtocolError | CodecError) -> int:
    """Log a broken channel, answer id 0 with it if the channel still takes it; the exit status."""
    _log.error("the channel is broken, exiting: %s", exc)
    try:
        writer.write_error(0, exc, with_traceback=False)
    except Exception as write_exc:  # noqa: BLE001 - best effort on a broken channel
        _log.error("could not report it to the client: %s", write_exc)
    return exit_codes.PROTOCOL_ERROR


def exit_now(code: int) -> NoReturn:
    """Exit without waiting for handler threads (they may never finish)."""
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001, S110 - exiting anyway
            pass
    os._exit(code)


class Worker:
    """Serves one negotiated connection until EOF, ``shutdown`` or a broken channel.

    Args:
        session: the negotiated connection.
        profile: what to serve.
        options: the worker options in force (from the command line and hello).
        hard_exit: exits the process when handler threads must be abandoned.
    """

    def __init__(
        self,
        session: Session,
        profile: Profile,
        options: WorkerOptions,
        *,
        hard_exit: Callable[[int], NoReturn] = exit_now,
    ) -> None:
        self.session = session
        self.writer = session.writer
        self.profile = profile
        self.options = options
        self.handles = HandleTable()
        self.counters = RequestCounters()
        self._runner = CallRunner(self.writer, self.handles)
        self._pool = (
            concurrent.futures.ThreadPoolExecutor(
                options.request_threads, thread_name_prefix="dspex-request"
            )
            if options.request_threads > 0
            else None
        )
        self._stop_grace_s: float | None = None
        self._hard_exit = hard_exit

    def request_stop(self, grace_s: float) -> None:
        """Stop reading after the current request (``shutdown``)."""
        self._stop_grace_s = grace_s

    def run(self) -> int:
        """Serve; returns the exit status (or exits the process if handlers are stuck)."""
        try:
            if self.session.pending is not None:
                self.dispatch(self.session.pending)
            while self._stop_grace_s is None:
                try:
                    message = self.session.reader.read()
                except WIRE_ERRORS as exc:
                    return self._finish(report_fatal(self.writer, exc), 0.0)
                if message is None:
                    _log.info("the client closed the channel (EOF)")
                    self._stop_grace_s = self.options.grace_s
                    break
                if not message.is_request:
                    error = UnexpectedFrameError(
                        f"the worker takes requests only, got {message!r}", peer="client"
                    )
                    return self._finish(report_fatal(self.writer, error), 0.0)
                self.dispatch(message)
        except BrokenPipeError:
            _log.info("the client stopped reading; exiting")
            return self._finish(exit_codes.OK, 0.0)
        _log.info("stopping after %d in-flight request(s)", self.counters.in_flight)
        return self._finish(exit_codes.OK, self._stop_grace_s)

    def dispatch(self, message: Message) -> None:
        """Answer a control command, or start the handler call a request routes to."""
        command = message.command
        if command in self.profile.commands and command in control.CONTROL_COMMANDS:
            self._control(control.CONTROL_COMMANDS[command], message)
            return
        try:
            call = resolve(message, self.profile, v2=self.session.v2)
        except RequestError as exc:
            self.counters.rejected()
            self.writer.write_error(message.id, exc.error_map())
            return
        self.counters.begin()
        if self._pool is None:
            self._execute(call)
        else:
            self._pool.submit(self._execute_on_pool, call)

    def _control(self, command: control.ControlCommand, message: Message) -> None:
        try:
            command(self, message)
        except BrokenPipeError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bad control request fails only itself
            self.writer.write_error(message.id, error_map_for(exc))

    def _execute(self, call: Call) -> None:
        ok = False
        try:
            ok = self._runner.run(call)
        finally:
            self.counters.finish(ok)

    def _execute_on_pool(self, call: Call) -> None:
        try:
            self._execute(call)
        except BrokenPipeError:
            _log.info("the client stopped reading; exiting")
            self._hard_exit(exit_codes.OK)
        except BaseException:
            # The runner answers every request; getting here is a worker bug, and a
            # request left unanswered is worse than a crash the supervisor sees.
            _log.critical("request %s could not be answered", call.message.id, exc_info=True)
            self._hard_exit(exit_codes.INTERNAL_ERROR)

    def _finish(self, code: int, grace_s: float) -> int:
        if self._pool is None:
            return code
        if self.counters.wait_idle(grace_s):
            self._pool.shutdown(wait=True)
            return code
        _log.warning(
            "%d request(s) still running after %.1f s; exiting without their answers",
            self.counters.in_flight,
            grace_s,
        )
        self._hard_exit(code)
