"""What a worker process serves: its built-in commands, its handlers, its defaults.

``python -m dspex_worker`` and the test echo worker run the same loop with
different profiles.
"""

from __future__ import annotations

import dataclasses

from dspex_worker.handlers.registry import BUILTIN_COMMANDS, DEFAULT_REGISTRY, Registry

#: Handler calls run on a pool of this many threads unless hello says otherwise.
DEFAULT_REQUEST_THREADS = 4


@dataclasses.dataclass(frozen=True)
class Profile:
    """A kind of worker.

    Attributes:
        name: for log lines.
        registry: the handlers it serves.
        commands: the built-in commands it answers (a subset of ``BUILTIN_COMMANDS``).
        request_threads: default size of the handler thread pool; 0 runs
            handlers on the reading thread, one at a time, in arrival order.
        detailed_ping: ``ping`` answers ``{ok, pid, in_flight}`` (else just ``{ok}``).
        advertised_handlers: ``capabilities.handlers`` in hello (default: the
            registry's handler names).
    """

    name: str
    registry: Registry
    commands: tuple[str, ...] = BUILTIN_COMMANDS
    request_threads: int = DEFAULT_REQUEST_THREADS
    detailed_ping: bool = True
    advertised_handlers: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.commands) - set(BUILTIN_COMMANDS)
        if unknown:
            raise ValueError(f"not built-in commands: {sorted(unknown)}")


def worker_profile() -> Profile:
    """The production worker: every built-in command, the default registry.

    Importing :mod:`dspex_worker.production` registers ``predict`` and ``embed``
    (cheaply: their heavy imports wait for ``setup``).
    """
    import dspex_worker.production  # noqa: F401 - registers the production handlers

    return Profile(name="dspex worker", registry=DEFAULT_REGISTRY)
