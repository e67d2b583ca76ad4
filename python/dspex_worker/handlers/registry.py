"""The handler registry: what ``run``, ``setup`` and handler commands can call.

A module makes handlers available by registering them when it is imported::

    from dspex_worker.handlers import Reply, register

    @register("upper")
    def upper(ctx):
        return Reply({"text": ctx.args["text"].upper()})

The worker imports such modules when ``hello`` names them in
``handler_modules``. The default registry holds only what production needs;
test handlers live in :mod:`dspex_testing.handlers`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from dspex_worker.handlers.context import Context

#: Commands the worker answers itself; no handler may take these names.
BUILTIN_COMMANDS = ("hello", "ping", "stats", "setup", "run", "shutdown")

HandlerFn = Callable[["Context"], Any]
LoaderFn = Callable[["Context"], Any]
F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass(frozen=True)
class Handler:
    """A registered handler.

    Attributes:
        name: the name used as ``command`` or as ``run``'s ``args.handler``.
        fn: called with a :class:`~dspex_worker.handlers.context.Context`; returns a
            ``Reply``, a plain result map, or None once it has streamed its answer.
        streaming: True when it answers with a stream (needs a V2 connection).
    """

    name: str
    fn: HandlerFn
    streaming: bool = False


@dataclasses.dataclass(frozen=True)
class SetupLoader:
    """A registered ``setup`` kind.

    Attributes:
        kind: the ``args.kind`` of ``setup`` requests it serves.
        fn: called with a context; returns the loaded object, or a ``Loaded``
            to add entries to the ``setup`` result.
    """

    kind: str
    fn: LoaderFn


def _check_name(what: str, name: str) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"a {what} name must be a non-empty string, was {name!r}")
    if name in BUILTIN_COMMANDS:
        raise ValueError(f"{name!r} is a built-in command and cannot name a {what}")


class Registry:
    """Handlers by name and setup loaders by kind (thread-safe, append-only)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._loaders: dict[str, SetupLoader] = {}
        self._lock = threading.Lock()

    def register(
        self, name: str, fn: HandlerFn | None = None, *, streaming: bool = False
    ) -> Any:
        """Register ``fn`` as handler ``name``; without ``fn``, a decorator.

        Registering the same function again is a no-op (a module imported
        twice); another function under a taken name is an error.

        Raises:
            ValueError: a bad or built-in name, or a name taken by another function.
        """
        _check_name("handler", name)

        def add(function: F) -> F:
            handler = Handler(name, function, streaming)
            with self._lock:
                existing = self._handlers.get(name)
                if existing is not None and existing != handler:
                    raise ValueError(
                        f"handler {name!r} is already registered by {_where(existing.fn)}"
                    )
                self._handlers[name] = handler
            return function

        return add if fn is None else add(fn)  # type: ignore[arg-type]

    def register_setup(self, kind: str, loader: LoaderFn | None = None) -> Any:
        """Register ``loader`` for ``setup`` requests of ``kind``; without it, a decorator.

        Raises:
            ValueError: a bad name, or a kind taken by another loader.
        """
        _check_name("setup kind", kind)

        def add(function: F) -> F:
            entry = SetupLoader(kind, function)
            with self._lock:
                existing = self._loaders.get(kind)
                if existing is not None and existing != entry:
                    raise ValueError(
                        f"setup kind {kind!r} is already registered by {_where(existing.fn)}"
                    )
                self._loaders[kind] = entry
            return function

        return add if loader is None else add(loader)  # type: ignore[arg-type]

    def handler(self, name: str) -> Handler | None:
        """The handler registered as ``name``, if any."""
        with self._lock:
            return self._handlers.get(name)

    def loader(self, kind: str) -> SetupLoader | None:
        """The setup loader registered for ``kind``, if any."""
        with self._lock:
            return self._loaders.get(kind)

    def handler_names(self) -> list[str]:
        """Registered handler names, in registration order."""
        with self._lock:
            return list(self._handlers)

    def setup_kinds(self) -> list[str]:
        """Registered setup kinds, in registration order."""
        with self._lock:
            return list(self._loaders)


def _where(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


#: The registry ``python -m dspex_worker`` serves; ``handler_modules`` add to it.
DEFAULT_REGISTRY = Registry()
#: Register a handler in the default registry (usable as a decorator).
register = DEFAULT_REGISTRY.register
#: Register a setup loader in the default registry (usable as a decorator).
register_setup = DEFAULT_REGISTRY.register_setup
