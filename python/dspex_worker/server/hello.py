"""Applying a hello's worker arguments and describing the worker in the answer.

Order matters: the thread limits go into the environment before any handler
module is imported, because numpy and torch read them once, at import.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from dspex_worker import logs, threadenv, usage_ledger
from dspex_worker.protocol.negotiation import versions
from dspex_worker.server.options import WorkerOptions
from dspex_worker.server.profile import Profile

#: Model libraries whose versions hello reports (None when not installed).
MODEL_PACKAGES = ("dspy", "litellm", "tokenizers", "onnxruntime", "torch", "sentence-transformers")

_log = logs.get_logger("hello")


class HelloSetup:
    """The ``configure`` hook of ``serve_hello`` for a worker profile.

    Args:
        profile: the worker's profile.
        options: the options before hello (defaults and the command line).

    Attributes:
        options: the options in force; updated by a successful hello.
    """

    def __init__(self, profile: Profile, options: WorkerOptions) -> None:
        self.profile = profile
        self.options = options

    def __call__(self, args: Mapping[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        """Apply the worker args of hello; return the hello result to send.

        Raises:
            ValueError: a bad worker arg.
            ImportError: a handler module failed to import (or anything it raised).
        """
        options = self.options.with_hello_args(args)
        if options.log_level is not None:
            logs.set_level(options.log_level)
        logs.set_worker_id(options.worker_id)
        if options.threads is not None and not threadenv.apply_thread_limit(options.threads):
            _log.warning(
                "threads=%d came after numpy was imported; native thread pools keep %s",
                options.threads,
                threadenv.current_thread_limit(),
            )
        if options.usage_ledger is not None:
            try:
                usage_ledger.install(options.usage_ledger)
            except OSError as exc:
                raise ValueError(
                    f"hello args.usage_ledger {options.usage_ledger!r} cannot be written: {exc}"
                ) from exc
        for module in options.handler_modules:
            importlib.import_module(module)
        self.options = options
        return self.describe(result)

    def describe(self, result: Mapping[str, Any]) -> dict[str, Any]:
        """The protocol's hello result plus what this worker is and can do."""
        registry = self.profile.registry
        described = dict(result)
        described["versions"] = versions(MODEL_PACKAGES)
        capabilities = dict(described.get("capabilities", {}))
        advertised = self.profile.advertised_handlers
        capabilities["handlers"] = (
            list(advertised) if advertised is not None else registry.handler_names()
        )
        capabilities["setup_kinds"] = (
            registry.setup_kinds() if "setup" in self.profile.commands else []
        )
        capabilities["commands"] = list(self.profile.commands)
        described["capabilities"] = capabilities
        described["worker_id"] = self.options.worker_id
        described["request_threads"] = self.options.request_threads
        described["threads"] = threadenv.current_thread_limit()
        return described
