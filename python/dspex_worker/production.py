"""The production handlers: importing this module registers them in the default registry.

``python -m dspex_worker`` imports it (see :func:`dspex_worker.server.profile.worker_profile`).
Registration is cheap: the handler modules import dspy, numpy and the model code only
inside their setup loaders, so ``hello`` stays fast.
"""

from __future__ import annotations

from dspex_worker.embed.handler import register_embed
from dspex_worker.handlers import DEFAULT_REGISTRY, Registry
from dspex_worker.offline import apply_offline_env
from dspex_worker.predict.handler import register_predict


def register_production(registry: Registry) -> None:
    """Register ``predict`` and ``embed`` (setup kinds and handlers) in ``registry``."""
    register_predict(registry)
    register_embed(registry)


# Now, not only at setup: a hello.handler_modules module may import dspy or litellm
# before any setup, and they read these variables at import.
apply_offline_env()
register_production(DEFAULT_REGISTRY)
