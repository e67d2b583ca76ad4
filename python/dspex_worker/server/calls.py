"""Routing a request to a handler or setup loader, and running it to one answer.

Whatever a handler does, its request gets exactly one answer: a response, an
error response, or a complete stream (START ... END, or ERROR once started).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dspex_worker import logs
from dspex_worker.handlers.context import Context, Loaded, Reply
from dspex_worker.handlers.registry import BUILTIN_COMMANDS, Handler, Registry, SetupLoader
from dspex_worker.handlers.stream import StreamWriter
from dspex_worker.protocol.message import Message
from dspex_worker.protocol.writer import MessageWriter
from dspex_worker.server.errors import (
    UnknownCommandError,
    UnknownHandlerError,
    error_map_for,
)
from dspex_worker.server.handles import HandleTable
from dspex_worker.server.profile import Profile

_log = logs.get_logger("calls")


@dataclasses.dataclass(frozen=True)
class Call:
    """A routed request.

    Attributes:
        message: the request.
        args: the args the handler sees (without ``run``'s ``handler`` or ``setup``'s ``kind``).
        label: names the call in logs (``run sleep``, ``setup predict``, ``echo``).
        handler: the handler to call, or
        loader: the setup loader to call.
    """

    message: Message
    args: dict[str, Any]
    label: str
    handler: Handler | None = None
    loader: SetupLoader | None = None


def _without(args: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in args.items() if k != key}


def _known(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


def resolve(message: Message, profile: Profile, *, v2: bool) -> Call:
    """Route ``setup``, ``run`` and handler commands.

    Raises:
        UnknownCommandError: not a served command, or a streaming handler on V1.
        UnknownHandlerError: ``run``/``setup`` naming nothing registered.
    """
    command, args, registry = message.command, message.args, profile.registry
    if command == "setup" and "setup" in profile.commands:
        return _resolve_setup(message, registry)
    if command == "run" and "run" in profile.commands:
        name = args.get("handler")
        handler = registry.handler(name) if isinstance(name, str) else None
        if handler is None:
            raise UnknownHandlerError(
                f"Unknown handler: {name!r}; registered handlers: "
                f"{_known(registry.handler_names())} (hello's handler_modules adds more)"
            )
        if handler.streaming and not v2:
            raise UnknownHandlerError(f"handler {name!r} streams, which needs a V2 connection")
        return Call(message, _without(args, "handler"), f"run {name}", handler=handler)
    handler = registry.handler(command) if command not in BUILTIN_COMMANDS else None
    if handler is None:
        raise UnknownCommandError(f"Unknown command: {command}")
    if handler.streaming and not v2:
        raise UnknownCommandError(
            f"Unknown command: {command} (it streams, which needs a V2 connection)"
        )
    return Call(message, dict(args), str(command), handler=handler)


def _resolve_setup(message: Message, registry: Registry) -> Call:
    kind = message.args.get("kind")
    loader = registry.loader(kind) if isinstance(kind, str) else None
    if loader is None:
        raise UnknownHandlerError(
            f"Unknown setup kind: {kind!r}; registered kinds: "
            f"{_known(registry.setup_kinds())} (hello's handler_modules adds more)"
        )
    return Call(message, _without(message.args, "kind"), f"setup {kind}", loader=loader)


def as_reply(outcome: Any) -> Reply:
    """A handler's return value as a Reply (None: an empty result map)."""
    if isinstance(outcome, Reply):
        return outcome
    return Reply({} if outcome is None else outcome)


class CallRunner:
    """Runs calls and writes their answers.

    Args:
        writer: the connection's message writer (thread-safe).
        handles: the worker's loaded objects.
    """

    def __init__(self, writer: MessageWriter, handles: HandleTable) -> None:
        self.writer = writer
        self.handles = handles

    def run(self, call: Call) -> bool:
        """Run one call and answer it; True when it succeeded.

        Only ``BrokenPipeError`` (the client is gone) escapes.
        """
        message = call.message
        stream = StreamWriter(self.writer, message.id)
        if call.handler is not None:
            name = call.handler.name
        else:
            assert call.loader is not None
            name = f"setup.{call.loader.kind}"
        context = Context(
            message,
            call.args,
            stream=stream,
            logger=logs.get_logger(f"handlers.{name}"),
            resolve_handle=self.handles.get,
        )
        try:
            if call.loader is not None:
                outcome: Any = self._setup(call.loader, context)
            else:
                assert call.handler is not None
                outcome = call.handler.fn(context)
            if stream.started:
                self._finish_stream(stream, outcome)
            else:
                reply = as_reply(outcome)
                self.writer.write_response(
                    message.id, reply.result, reply.bodies, formats=reply.formats
                )
            return True
        except BrokenPipeError:
            raise
        # SystemExit too: a handler calling sys.exit() must not end a pool thread silently.
        except (Exception, SystemExit) as exc:
            self._fail(call, stream, exc)
            return False

    def _setup(self, loader: SetupLoader, context: Context) -> Reply:
        loaded = loader.fn(context)
        if not isinstance(loaded, Loaded):
            loaded = Loaded(loaded)
        if "handle" in loaded.result:
            raise ValueError(f"setup loader {loader.kind!r} returned its own 'handle' entry")
        handle = self.handles.add(loader.kind, loaded.value)
        return Reply({"handle": handle, **loaded.result})

    @staticmethod
    def _finish_stream(stream: StreamWriter, outcome: Any) -> None:
        if outcome is not None:
            raise TypeError("a handler that started a stream must return None, not a reply")
        if not stream.ended:
            # Ends a complete stream; an incomplete one raises and becomes STREAM_ERROR.
            stream.end()

    def _fail(self, call: Call, stream: StreamWriter, exc: BaseException) -> None:
        error = error_map_for(exc)
        _log.warning(
            "request %s (%s) failed: %s: %s", call.message.id, call.label, error["type"], exc
        )
        if stream.ended:
            _log.error("request %s failed after its stream ended; not reported", call.message.id)
            return
        try:
            self._write_error(call.message.id, stream, error)
        except BrokenPipeError:
            raise
        except Exception as write_exc:  # noqa: BLE001 - the request must still get an answer
            # E.g. a message with an unpaired surrogate, which JSON cannot carry.
            _log.warning("could not write the error of request %s: %s", call.message.id, write_exc)
            safe = {
                key: str(value).encode("utf-8", "backslashreplace").decode("utf-8")
                for key, value in error.items()
            }
            self._write_error(call.message.id, stream, safe)

    def _write_error(self, id: int, stream: StreamWriter, error: dict[str, Any]) -> None:
        if stream.started:
            stream.error(error)
        else:
            self.writer.write_error(id, error)
