"""The production model kinds: importing this module registers them in the default registry.

``python -m dspex_worker`` imports it (see :func:`dspex_worker.server.profile.worker_profile`).
Registration is cheap: the kinds import dspy, numpy and the model code only when a
``setup`` loads a model, so ``hello`` stays fast.
"""

from __future__ import annotations

from dspex_worker.embed.kind import EmbedKind
from dspex_worker.handlers import DEFAULT_REGISTRY, Registry
from dspex_worker.kinds import register_kind
from dspex_worker.offline import apply_offline_env
from dspex_worker.optimize.kind import OptimizeKind
from dspex_worker.predict.kind import PredictKind


def register_production(registry: Registry) -> None:
    """Register ``predict``, ``embed`` and ``optimize`` (setup kinds and handlers) in ``registry``."""
    register_kind(registry, PredictKind())
    register_kind(registry, EmbedKind())
    register_kind(registry, OptimizeKind())


# Now, not only at setup: a hello.handler_modules module may import dspy or litellm
# before any setup, and they read these variables at import.
apply_offline_env()
register_production(DEFAULT_REGISTRY)
