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

The worker's temp dir is the one the Java connector made for it and named in
``DSPEX_WORKER_TMPDIR`` (the connector deletes it once the worker is gone, and
sweeps those of a JVM that was killed). A worker started without it (standalone)
makes its own and removes it at exit, on SIGTERM and when its parent dies
(:mod:`dspex_worker.boot` calls :func:`remove_worker_temp_dir` before its quick exits,
which skip ``atexit``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading

from dspex_worker import contract

#: Variables forced for every worker (a value already in the environment wins).
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}

#: Names the private directory the connector made for this worker.
TEMP_DIR_ENV = contract.TEMP_DIR_ENV

_lock = threading.Lock()
_temp_dir: str | None = None
#: The directory this process made itself, and the pid that made it: a forked child
#: inherits both, and must not remove its parent's directory when it exits.
_made: tuple[str, int] | None = None


def worker_temp_dir() -> str:
    """This worker's private directory (found or created on first use).

    The one named by ``$DSPEX_WORKER_TMPDIR`` when it exists (its maker removes it);
    else a new one, which :func:`remove_worker_temp_dir` removes, at exit or before a
    quick exit.
    """
    global _temp_dir, _made
    with _lock:
        if _temp_dir is None:
            given = os.environ.get(TEMP_DIR_ENV)
            if given and os.path.isdir(given):
                _temp_dir = given
            else:
                _temp_dir = tempfile.mkdtemp(prefix=f"dspex-worker-{os.getpid()}-")
                _made = (_temp_dir, os.getpid())
                atexit.register(remove_worker_temp_dir)
        return _temp_dir


def remove_worker_temp_dir() -> None:
    """Remove the temp dir this process made, if any (never one it was given).

    Takes no lock, so that a signal handler may call it while the main thread is
    inside :func:`worker_temp_dir`.
    """
    made = _made
    if made is not None and made[1] == os.getpid():
        shutil.rmtree(made[0], ignore_errors=True)


def apply_offline_env() -> None:
    """Set :data:`OFFLINE_ENV` and a default ``DSPY_CACHEDIR`` (values already set are kept)."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    if not os.environ.get("DSPY_CACHEDIR"):
        os.environ["DSPY_CACHEDIR"] = os.path.join(worker_temp_dir(), "dspy_cache")
