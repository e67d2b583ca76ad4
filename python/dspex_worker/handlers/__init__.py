"""The handler API: register functions the worker calls for ``run``, ``setup`` and handler commands.

See :mod:`dspex_worker.handlers.registry` for an example and
``docs/protocol.md`` ("Worker commands") for the contract.
"""

from dspex_worker.handlers.context import Context, Loaded, Reply
from dspex_worker.handlers.registry import (
    BUILTIN_COMMANDS,
    DEFAULT_REGISTRY,
    Handler,
    Registry,
    SetupLoader,
    register,
    register_setup,
)
from dspex_worker.handlers.stream import StreamWriter

__all__ = [
    "BUILTIN_COMMANDS",
    "Context",
    "DEFAULT_REGISTRY",
    "Handler",
    "Loaded",
    "Registry",
    "Reply",
    "SetupLoader",
    "StreamWriter",
    "register",
    "register_setup",
]
