"""What a handler receives (:class:`Context`) and returns (:class:`Reply`, :class:`Loaded`)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

from dspex_worker.handlers.stream import StreamWriter
from dspex_worker.protocol.message import Message
from dspex_worker.protocol.writer import BodyFormats

_MISSING: Any = object()


@dataclasses.dataclass
class Reply:
    """A handler's answer: a result plus optional bodies.

    Attributes:
        result: the response's ``result`` (a map, so bodies can go inline).
        bodies: bodies by name (lists of records, ndarrays, Arrow tables, ...).
        formats: ``None``/``"auto"``, one format for all bodies, or per body name.
    """

    result: Any = dataclasses.field(default_factory=dict)
    bodies: Mapping[str, Any] | None = None
    formats: BodyFormats = None


@dataclasses.dataclass
class Loaded:
    """A setup loader's answer when it has more to say than the loaded object.

    Attributes:
        value: the object later requests reach through their ``handle``.
        result: extra entries for the ``setup`` result (after ``handle``).
    """

    value: Any
    result: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class Context:
    """One request as a handler sees it.

    Args:
        message: the request.
        args: the request's args without the routing key (``run``'s
            ``handler``, ``setup``'s ``kind``).
        stream: the stream writer for a streaming answer.
        logger: the handler's logger (stderr, tagged with the worker id).
        resolve_handle: turns ``args["handle"]`` into the loaded object, or
            raises ``UnknownHandle``.
    """

    def __init__(
        self,
        message: Message,
        args: Mapping[str, Any],
        *,
        stream: StreamWriter,
        logger: logging.Logger,
        resolve_handle: Callable[[Any], Any],
    ) -> None:
        self.message = message
        self.args = dict(args)
        self.stream = stream
        self.logger = logger
        self._resolve_handle = resolve_handle
        self._handle: Any = _MISSING

    @property
    def id(self) -> int:
        """The request id."""
        return self.message.id

    @property
    def command(self) -> str:
        """The request's command (``run``, ``setup`` or a handler name)."""
        return self.message.command or ""

    @property
    def handle(self) -> Any:
        """The object ``setup`` loaded for ``args["handle"]``.

        Resolved on first access, so handlers that take no handle never fail on one.

        Raises:
            UnknownHandleError: no ``handle`` in args, or not one this worker returned.
        """
        if self._handle is _MISSING:
            self._handle = self._resolve_handle(self.args.get("handle"))
        return self._handle

    def has_body(self, name: str) -> bool:
        """True when body ``name`` came as a frame or inline in args."""
        return self.message.has_body(name)

    def body(self, name: str, default: Any = _MISSING) -> Any:
        """Body ``name`` decoded (records, ndarray, ...); ``default`` when absent.

        Raises:
            KeyError: no such body and no default.
            CorruptedPayloadError, ProtocolError: the body is corrupted or its REF is bad
                (fails this request only).
        """
        if default is not _MISSING and not self.message.has_body(name):
            return default
        return self.message.body(name)

    def body_format(self, name: str) -> str:
        """The content format body ``name`` came in (``json`` when inline)."""
        return self.message.body_format(name)

    def body_is_ref(self, name: str) -> bool:
        """True when body ``name`` came as a REF (spill file)."""
        return self.message.body_is_ref(name)

    def body_table(self, name: str) -> Any:
        """An Arrow body as a ``pyarrow.Table``, without converting to records."""
        return self.message.body_table(name)

    def body_schema(self, name: str) -> list[dict[str, str]]:
        """An Arrow body's schema as ``[{name, type}]``."""
        return self.message.body_schema(name)
