"""Environment that keeps model libraries offline and out of the user's home directory.

Set before dspy, litellm, tokenizers or huggingface_hub are imported, because
they read these variables at import time:

- ``LITELLM_LOCAL_MODEL_COST_MAP=True``: litellm (and dspy's model metadata) would
  otherwise fetch a model-cost map from GitHub when imported (a 5 s timeout offline).
- ``HF_HUB_OFFLINE=1``: huggingface_hub (pulled in by tokenizers) never calls the Hub.
- ``DSPY_CACHEDIR``: dspy resolves its disk-cache directory once, at import; the
  default would be ``~/.dspy_cache``. It points into the worker's private temp dir
  unless the environment already names one (``setup``'s ``cache_dir`` overrides it
  later for the LM cache).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading

#: Variables forced for every worker (a value already in the environment wins).
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}

_lock = threading.Lock()
_temp_dir: str | None = None


def worker_temp_dir() -> str:
    """A private directory for this worker process, removed at exit (created on first use)."""
    global _temp_dir
    with _lock:
        if _temp_dir is None:
            _temp_dir = tempfile.mkdtemp(prefix=f"dspex-worker-{os.getpid()}-")
            atexit.register(shutil.rmtree, _temp_dir, True)
        return _temp_dir


def apply_offline_env() -> None:
    """Set :data:`OFFLINE_ENV` and a default ``DSPY_CACHEDIR`` (values already set are kept)."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    if not os.environ.get("DSPY_CACHEDIR"):
        os.environ["DSPY_CACHEDIR"] = os.path.join(worker_temp_dir(), "dspy_cache")
